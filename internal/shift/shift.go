// Package shift is how a new Lambda version takes traffic: AWS CodeDeploy
// moves each function's live alias to it, step by step for a canary or a
// linear shift, watching the alarms that see the new version, and moves it
// back on its own when one fires, even if the runner that asked is gone.
// This package knows the shifts' names, schedules and states (pure); package
// awstraffic asks CodeDeploy and Lambda through the AWS SDK.
package shift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Preference is how a deploy shifts traffic, by AWS SAM's names.
type Preference string

// Preferences lists every preference, AllAtOnce first: CodeDeploy's
// predefined Lambda configurations.
// https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html
var Preferences = []Preference{
	"AllAtOnce",
	"Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes", "Canary10Percent30Minutes",
	"Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes", "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes",
}

// AllAtOnce moves all traffic at once (still through CodeDeploy, so
// there is one way traffic moves).
const AllAtOnce Preference = "AllAtOnce"

// ParsePreference reads a preference by its SAM name.
func ParsePreference(s string) (Preference, error) {
	for _, p := range Preferences {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	names := make([]string, len(Preferences))
	for i, p := range Preferences {
		names[i] = string(p)
	}
	return "", fmt.Errorf("%q is not a deployment preference; use one of %s", s, strings.Join(names, ", "))
}

// ConfigName is CodeDeploy's name of the preference's configuration.
func (p Preference) ConfigName() string { return "CodeDeployDefault.Lambda" + string(p) }

// Schedule is when a shift moves how much traffic: at each offset from its
// start, the share (0-100) the new version has from then on.
type Schedule []Step

// Step is one move of traffic.
type Step struct {
	After time.Duration
	Share int
}

// Schedule is the preference's steps: a canary sends 10% at once and the rest
// after its bake time; a linear shift adds 10% every interval.
func (p Preference) Schedule() Schedule {
	var canary, every int
	switch {
	case p == AllAtOnce:
		return Schedule{{0, 100}}
	case strings.HasPrefix(string(p), "Canary10Percent"):
		fmt.Sscanf(strings.TrimPrefix(string(p), "Canary10Percent"), "%dMinutes", &canary)
		return Schedule{{0, 10}, {time.Duration(canary) * time.Minute, 100}}
	default:
		rest := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(string(p), "Linear10PercentEvery"), "Minutes"), "Minute")
		fmt.Sscanf(rest, "%d", &every)
		var schedule Schedule
		for i := 0; i < 10; i++ {
			schedule = append(schedule, Step{time.Duration(i*every) * time.Minute, (i + 1) * 10})
		}
		return schedule
	}
}

// Duration is how long the shift bakes before all traffic is on the new
// version.
func (p Schedule) Duration() time.Duration { return p[len(p)-1].After }

// Function is one function's shift: from the version its alias serves
// now to the version the update published.
type Function struct {
	// Key names the function in the stack's outputs ("apiHandler").
	Key             string
	Name            string
	Alias           string
	DeploymentGroup string
	Current, Target string
	// Alarms stop the shift and send the traffic back when one fires.
	Alarms []string
}

// Pending says whether the alias is not on the target version yet.
func (f Function) Pending() bool { return f.Current != f.Target }

// AppSpec is the deployment's revision: which alias of which function
// moves from which version to which.
// https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html
func (f Function) AppSpec() (content, sha string) {
	spec := map[string]any{
		"version": 0.0,
		"Resources": []any{map[string]any{
			f.Name: map[string]any{
				"Type": "AWS::Lambda::Function",
				"Properties": map[string]any{
					"Name": f.Name, "Alias": f.Alias, "CurrentVersion": f.Current, "TargetVersion": f.Target,
				},
			},
		}},
	}
	b, _ := json.Marshal(spec)
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:])
}

// Status is where a deployment is, as GetDeployment says.
type Status string

// CodeDeploy's deployment states.
const (
	Created    Status = "Created"
	Queued     Status = "Queued"
	InProgress Status = "InProgress"
	Baking     Status = "Baking"
	Ready      Status = "Ready"
	Succeeded  Status = "Succeeded"
	Failed     Status = "Failed"
	Stopped    Status = "Stopped"
)

// Active lists the states of a deployment still running.
var Active = []Status{Created, Queued, InProgress, Baking, Ready}

// Done reports whether the deployment has ended.
func (s Status) Done() bool { return s == Succeeded || s == Failed || s == Stopped }

// Deployment is one CodeDeploy deployment as a run sees it.
type Deployment struct {
	ID     string
	Status Status
	// Config is the deployment configuration's name.
	Config string
	Start  time.Time
	// ErrorCode and ErrorMessage say why it failed or stopped (ALARM_ACTIVE
	// when an alarm stopped it).
	ErrorCode, ErrorMessage string
	// RolledBack names the deployment that returned traffic, if any.
	RolledBack string
}

// Alarms are the alarms that stopped the deployment, read from its error
// message ("... Activated alarms: a b"); none when no alarm stopped it.
func (d Deployment) Alarms() []string {
	if d.ErrorCode != "ALARM_ACTIVE" {
		return nil
	}
	_, list, ok := strings.Cut(d.ErrorMessage, "Activated alarms:")
	if !ok {
		return nil
	}
	names := strings.Fields(strings.NewReplacer(",", " ").Replace(list))
	sort.Strings(names)
	return names
}

// Alias is where a function's alias points: its version, and the share of
// traffic another version gets while a shift runs.
type Alias struct {
	Version string
	// Weights are the additional versions' shares, from 0 to 1.
	Weights map[string]float64
}

// Share is the percentage of traffic version gets from the alias.
func (a Alias) Share(version string) int {
	if w, ok := a.Weights[version]; ok {
		return int(w*100 + 0.5)
	}
	if a.Version != version {
		return 0
	}
	rest := 1.0
	for _, w := range a.Weights {
		rest -= w
	}
	return int(rest*100 + 0.5)
}
