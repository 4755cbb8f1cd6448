package awsfake

// A fake AWS CodeDeploy for Lambda (JSON 1.1 protocol, as the SDK speaks
// it), as strict as CodeDeploy where the action could get it wrong: the
// application and group must exist in the sandbox, the AppSpec must name
// the alias's current version and an existing target, one deployment runs
// per group at a time. A deployment runs through its lifecycle in scaled
// time (MinuteIs), moving the alias in the sandbox cloud as CodeDeploy
// moves it in Lambda; a test can set an alarm off during a shift, and the
// deployment stops and returns all traffic to the old version.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/org/tap-deploy/internal/cloudsim"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/test/sandbox"
)

// deployment is one CodeDeploy deployment the fake runs.
type deployment struct {
	ID, App, Group, Config string
	Function, Alias        string
	Current, Target        string
	Region                 string
	Created                time.Time
	Status                 shift.Status
	ErrorCode, ErrorMsg    string
	RollbackID             string
	// Shares records every traffic share the alias got, in order.
	Shares []int
}

type codeDeploy struct {
	mu          sync.Mutex
	minute      time.Duration
	deployments []*deployment
	// alarms go off for a group's shift once the new version gets traffic.
	alarms map[string]string
	// hold keeps a group's deployments in progress (a shift a test
	// interrupts), until released.
	hold map[string]bool
}

// MinuteIs sets how long a CodeDeploy minute lasts in the fake (a
// Canary10Percent5Minutes shift then bakes five of them).
func (s *Server) MinuteIs(d time.Duration) {
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	s.cd.minute = d
}

// AlarmDuringShift sets off the named alarm during the next shifts of a
// deployment group, once the new version gets traffic ("" clears it).
func (s *Server) AlarmDuringShift(group, alarm string) {
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	s.cd.alarms[group] = alarm
}

// Hold keeps a group's deployments in progress until released.
func (s *Server) Hold(group string, on bool) {
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	s.cd.hold[group] = on
}

// Deployment is what the fake knows of one deployment, for assertions.
type Deployment struct {
	ID, Group, Config, Current, Target string
	Status                             shift.Status
	Shares                             []int
}

// Deployments lists every deployment the fake ran, oldest first.
func (s *Server) Deployments() []Deployment {
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	var out []Deployment
	for _, d := range s.cd.deployments {
		out = append(out, Deployment{ID: d.ID, Group: d.Group, Config: d.Config, Current: d.Current, Target: d.Target, Status: d.Status,
			Shares: append([]int(nil), d.Shares...)})
	}
	return out
}

// codeDeployTarget serves CodeDeploy's JSON 1.1 protocol:
// X-Amz-Target: CodeDeploy_20141006.<Operation>.
func (s *Server) codeDeployTarget(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "CodeDeploy_20141006.")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.count("codedeploy:" + op)
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		jsonError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	region := regionOf(r)
	switch op {
	case "CreateDeployment":
		s.createDeployment(w, region, in)
	case "GetDeployment":
		s.getDeployment(w, in)
	case "ListDeployments":
		s.listDeployments(w, in)
	case "StopDeployment":
		s.stopDeployment(w, in)
	default:
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", "the fake CodeDeploy does not implement "+op)
	}
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// createDeployment checks the request as CodeDeploy does.
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateDeployment.html
func (s *Server) createDeployment(w http.ResponseWriter, region string, in map[string]any) {
	app, group, config := str(in, "applicationName"), str(in, "deploymentGroupName"), str(in, "deploymentConfigName")
	st, err := s.cloud.Load()
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	if !hasResource(st, "aws:codedeploy/application:Application", region, "name", app) {
		jsonError(w, http.StatusBadRequest, "ApplicationDoesNotExistException", "No application found for name: "+app)
		return
	}
	if !hasResource(st, "aws:codedeploy/deploymentGroup:DeploymentGroup", region, "deploymentGroupName", group) {
		jsonError(w, http.StatusBadRequest, "DeploymentGroupDoesNotExistException", "No Deployment Group found for name: "+group)
		return
	}
	if config != "" && !knownConfig(config) {
		jsonError(w, http.StatusBadRequest, "DeploymentConfigDoesNotExistException", "No deployment configuration found for name: "+config)
		return
	}
	if config == "" {
		config = "CodeDeployDefault.LambdaAllAtOnce"
	}
	rev, _ := in["revision"].(map[string]any)
	spec, _ := rev["appSpecContent"].(map[string]any)
	var appSpec struct {
		Resources []map[string]struct {
			Type       string
			Properties struct{ Name, Alias, CurrentVersion, TargetVersion string }
		}
	}
	if str(rev, "revisionType") != "AppSpecContent" || json.Unmarshal([]byte(str(spec, "content")), &appSpec) != nil || len(appSpec.Resources) != 1 {
		jsonError(w, http.StatusBadRequest, "InvalidRevisionException", "The AppSpec content is not valid for a Lambda deployment")
		return
	}
	var p struct{ Name, Alias, CurrentVersion, TargetVersion string }
	for _, res := range appSpec.Resources[0] {
		p = res.Properties
	}
	alias, ok := findAlias(st, region, p.Name, p.Alias)
	if !ok {
		jsonError(w, http.StatusBadRequest, "InvalidLambdaFunctionException", fmt.Sprintf("The Lambda function %s or its alias %s does not exist", p.Name, p.Alias))
		return
	}
	latest := latestVersion(st, region, p.Name)
	if fmt.Sprint(alias.Outputs["functionVersion"]) != p.CurrentVersion || atoi(p.TargetVersion) < 1 || atoi(p.TargetVersion) > latest {
		jsonError(w, http.StatusBadRequest, "InvalidLambdaConfigurationException",
			fmt.Sprintf("The AppSpec's versions are not valid: the alias %s of %s is on version %v, and versions 1 to %d exist", p.Alias, p.Name, alias.Outputs["functionVersion"], latest))
		return
	}
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	for _, d := range s.cd.deployments {
		if d.Group == group && !d.Status.Done() {
			jsonError(w, http.StatusBadRequest, "DeploymentLimitExceededException", fmt.Sprintf("The Deployment Group '%s' already has an active Deployment '%s'", group, d.ID))
			return
		}
	}
	d := &deployment{ID: fmt.Sprintf("d-FAKE%05d", len(s.cd.deployments)+1), App: app, Group: group, Config: config, Function: p.Name, Alias: p.Alias,
		Current: p.CurrentVersion, Target: p.TargetVersion, Region: region, Created: time.Now(), Status: shift.Created}
	// CodeDeploy acts as the group's service role: a role that cannot
	// read the alarms or move the alias fails the deployment, as the
	// first step does in AWS.
	role := groupRole(st, region, app, group)
	fnArn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, cloudsim.Account, p.Name)
	if !sandbox.RoleAllows(st, role, "lambda:UpdateAlias", fnArn) || !sandbox.RoleAllows(st, role, "lambda:GetAlias", fnArn) || !sandbox.RoleAllows(st, role, "cloudwatch:DescribeAlarms", "*") {
		d.Status, d.ErrorCode = shift.Failed, "IAM_ROLE_PERMISSIONS"
		d.ErrorMsg = fmt.Sprintf("The IAM role %s does not give you permission to perform operations in the following AWS service: AWSLambda. Contact your AWS administrator if you need help. If you are an AWS administrator, you can grant permissions to your users or groups by creating IAM policies.", role)
	}
	s.cd.deployments = append(s.cd.deployments, d)
	writeJSONAmz(w, map[string]any{"deploymentId": d.ID})
}

func (s *Server) getDeployment(w http.ResponseWriter, in map[string]any) {
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	if d := s.deployment(w, in); d != nil {
		info := map[string]any{"deploymentId": d.ID, "applicationName": d.App, "deploymentGroupName": d.Group, "deploymentConfigName": d.Config,
			"status": string(d.Status), "computePlatform": "Lambda", "createTime": float64(d.Created.UnixMilli()) / 1000,
			"deploymentStyle": map[string]any{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}}
		if d.ErrorCode != "" {
			info["errorInformation"] = map[string]any{"code": d.ErrorCode, "message": d.ErrorMsg}
		}
		if d.RollbackID != "" {
			info["rollbackInfo"] = map[string]any{"rollbackDeploymentId": d.RollbackID,
				"rollbackMessage": fmt.Sprintf("Deployment %s terminated. Automatic rollback is triggered with a DeploymentId %s.", d.ID, d.RollbackID)}
		}
		writeJSONAmz(w, map[string]any{"deploymentInfo": info})
	}
}

// deployment finds the request's deployment and brings it up to date, or
// answers as CodeDeploy does for an unknown id and returns nil. The caller
// holds s.cd.mu.
func (s *Server) deployment(w http.ResponseWriter, in map[string]any) *deployment {
	for _, d := range s.cd.deployments {
		if d.ID == str(in, "deploymentId") {
			s.advance(d)
			return d
		}
	}
	jsonError(w, http.StatusBadRequest, "DeploymentDoesNotExistException", "The deployment "+str(in, "deploymentId")+" could not be found")
	return nil
}

// stopDeployment stops a running deployment; with autoRollbackEnabled
// CodeDeploy returns the alias to the old version.
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html
func (s *Server) stopDeployment(w http.ResponseWriter, in map[string]any) {
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	if d := s.deployment(w, in); d != nil {
		if d.Status.Done() {
			jsonError(w, http.StatusBadRequest, "DeploymentAlreadyCompletedException", "The deployment "+d.ID+" is already completed")
			return
		}
		d.Status = shift.Stopped
		d.ErrorCode, d.ErrorMsg = "MANUAL_STOP", "The deployment was stopped by the user"
		if rollback, _ := in["autoRollbackEnabled"].(bool); rollback {
			s.setAlias(d, d.Current, 0)
			d.RollbackID = d.ID + "R"
		}
		writeJSONAmz(w, map[string]any{"status": "Succeeded", "statusMessage": "The deployment was stopped"})
	}
}

func (s *Server) listDeployments(w http.ResponseWriter, in map[string]any) {
	want := map[string]bool{}
	statuses, _ := in["includeOnlyStatuses"].([]any)
	for _, v := range statuses {
		want[fmt.Sprint(v)] = true
	}
	s.cd.mu.Lock()
	defer s.cd.mu.Unlock()
	ids := []string{}
	for _, d := range s.cd.deployments {
		s.advance(d)
		if d.App == str(in, "applicationName") && d.Group == str(in, "deploymentGroupName") && (len(want) == 0 || want[string(d.Status)]) {
			ids = append(ids, d.ID)
		}
	}
	writeJSONAmz(w, map[string]any{"deployments": ids})
}

// advance moves a deployment along its schedule in scaled time, and the alias
// with it. Called with the lock held.
func (s *Server) advance(d *deployment) {
	if d.Status.Done() || s.cd.hold[d.Group] {
		if s.cd.hold[d.Group] && d.Status == shift.Created {
			d.Status = shift.InProgress
		}
		return
	}
	minute := s.cd.minute
	if minute <= 0 {
		minute = 100 * time.Millisecond
	}
	plan := shift.Preference(strings.TrimPrefix(d.Config, "CodeDeployDefault.Lambda")).Schedule()
	elapsed := time.Since(d.Created)
	share := 0
	for _, step := range plan {
		if time.Duration(float64(step.After)/float64(time.Minute)*float64(minute)) <= elapsed {
			share = step.Share
		}
	}
	d.Status = shift.InProgress
	if alarm := s.cd.alarms[d.Group]; alarm != "" && share > 0 {
		// CodeDeploy stops the deployment and rolls back: all traffic on
		// the old version.
		s.setAlias(d, d.Current, 0)
		d.Status, d.ErrorCode = shift.Stopped, "ALARM_ACTIVE"
		d.ErrorMsg = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: " + alarm
		d.RollbackID = d.ID + "R"
		return
	}
	switch {
	case share >= 100:
		s.setAlias(d, d.Target, 100)
		d.Status = shift.Succeeded
	case share > 0:
		s.setAlias(d, d.Current, share)
	}
}

// setAlias points the alias at version, with share percent of the traffic
// on the target while a shift runs, in the sandbox cloud.
func (s *Server) setAlias(d *deployment, version string, share int) {
	if len(d.Shares) == 0 || d.Shares[len(d.Shares)-1] != share {
		d.Shares = append(d.Shares, share)
	}
	s.cloud.Update(func(st *sandbox.State) error { //nolint:errcheck // a test reads the alias back
		for k, r := range st.Resources {
			if r.Type != "aws:lambda/alias:Alias" || r.Region != d.Region || functionOf(r) != d.Function || r.Inputs["name"] != d.Alias {
				continue
			}
			routing := map[string]any{}
			if version == d.Current && share > 0 && share < 100 {
				routing = map[string]any{"additionalVersionWeights": map[string]any{d.Target: float64(share) / 100}}
			}
			for _, m := range []map[string]any{r.Inputs, r.Outputs} {
				m["functionVersion"] = version
				if len(routing) > 0 {
					m["routingConfig"] = routing
				} else {
					delete(m, "routingConfig")
				}
			}
			st.Resources[k] = r
		}
		return nil
	})
}

// https://docs.aws.amazon.com/lambda/latest/api/API_GetAlias.html
func (s *Server) lambdaGetAlias(w http.ResponseWriter, r *http.Request) {
	s.count("lambda:GetAlias")
	st, err := s.cloud.Load()
	if err != nil {
		awsError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	a, ok := findAlias(st, regionOf(r), r.PathValue("name"), r.PathValue("alias"))
	if !ok {
		awsError(w, http.StatusNotFound, "ResourceNotFoundException", "Alias not found: "+r.PathValue("alias"))
		return
	}
	out := map[string]any{"Name": a.Inputs["name"], "FunctionVersion": a.Outputs["functionVersion"], "AliasArn": a.Outputs["arn"]}
	if rc, ok := a.Outputs["routingConfig"].(map[string]any); ok {
		out["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": rc["additionalVersionWeights"]}
	}
	writeJSON(w, out)
}

func findAlias(st sandbox.State, region, function, alias string) (sandbox.Resource, bool) {
	for _, r := range st.ByType("aws:lambda/alias:Alias") {
		if r.Region == region && functionOf(r) == function && r.Inputs["name"] == alias {
			return r, true
		}
	}
	return sandbox.Resource{}, false
}

func functionOf(alias sandbox.Resource) string {
	fn := fmt.Sprint(alias.Inputs["functionName"])
	if i := strings.LastIndex(fn, ":function:"); i >= 0 {
		fn = fn[i+len(":function:"):]
	}
	return fn
}

func latestVersion(st sandbox.State, region, function string) int {
	for _, f := range st.ByType("aws:lambda/function:Function") {
		if f.Region == region && f.ID == function {
			return atoi(fmt.Sprint(f.Outputs["version"]))
		}
	}
	return 0
}

func groupRole(st sandbox.State, region, app, group string) string {
	for _, r := range st.ByType("aws:codedeploy/deploymentGroup:DeploymentGroup") {
		if r.Region == region && r.Inputs["appName"] == app && r.Inputs["deploymentGroupName"] == group {
			return fmt.Sprint(r.Inputs["serviceRoleArn"])
		}
	}
	return ""
}

func hasResource(st sandbox.State, typ, region, key, value string) bool {
	for _, r := range st.ByType(typ) {
		if r.Region == region && r.Inputs[key] == value {
			return true
		}
	}
	return false
}

func knownConfig(name string) bool {
	for _, p := range shift.Preferences {
		if p.ConfigName() == name {
			return true
		}
	}
	return false
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func writeJSONAmz(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // test server
}

// jsonError answers as AWS's JSON 1.1 services do.
func jsonError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"__type": code, "message": message}) //nolint:errcheck // test server
}
