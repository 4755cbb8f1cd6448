package sandbox

// What AWS checks when a resource is saved, with AWS's own error texts: a
// sandbox that accepts what AWS refuses hides the bugs users meet first.
// Each rule cites where AWS documents it (or where its text was seen).

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/cloudsim"
)

// Resource types the rules look at.
const (
	tBucket         = "aws:s3/bucketV2:BucketV2"
	tObject         = "aws:s3/bucketObjectv2:BucketObjectv2"
	tVersioning     = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tNotification   = "aws:s3/bucketNotification:BucketNotification"
	tFunction       = "aws:lambda/function:Function"
	tPermission     = "aws:lambda/permission:Permission"
	tRole           = "aws:iam/role:Role"
	tRolePolicy     = "aws:iam/rolePolicy:RolePolicy"
	tAttachment     = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tAPIAccount     = "aws:apigateway/account:Account"
	tStage          = "aws:apigateway/stage:Stage"
	tMethodSettings = "aws:apigateway/methodSettings:MethodSettings"
	tTable          = "aws:dynamodb/table:Table"
	tLogGroup       = "aws:cloudwatch/logGroup:LogGroup"
	tLambdaAlias    = "aws:lambda/alias:Alias"
	tCodeDeployApp  = "aws:codedeploy/application:Application"
	tCodeDeployDG   = "aws:codedeploy/deploymentGroup:DeploymentGroup"
	tMetricAlarm    = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tKey            = "aws:kms/key:Key"
)

// scopeOf is where AWS keeps a type's ids unique. IAM is one namespace per
// account for every region; S3 bucket names are one namespace for every
// account (and a bucket's configuration and objects hang off its global
// name); everything else is per account and region.
func scopeOf(typ string) awsfacts.Scope {
	switch {
	case strings.HasPrefix(typ, "aws:s3/"):
		return awsfacts.ScopePartition
	case strings.HasPrefix(typ, "aws:iam/"):
		return awsfacts.ScopeAccount
	}
	return awsfacts.ScopeRegion
}

// keyIn is where a resource of the region is kept: an S3 object's id is
// its key, unique only within its bucket, so two stacks' objects of the
// same key are two resources; regional types are kept per region, so the
// same name in two regions is two resources, as in AWS.
func keyIn(region, typ, id string, props map[string]any) string {
	switch {
	case typ == tObject:
		if bucket, ok := props["bucket"].(string); ok {
			return key(typ, bucket+"/"+id)
		}
	case scopeOf(typ) == awsfacts.ScopeRegion:
		return key(typ, region+"/"+id)
	}
	return key(typ, id)
}

// alreadyExists is AWS refusing a create whose name is taken: by this
// account (any region, for IAM and S3) or, for S3, by any other account.
func alreadyExists(st *State, typ, region, id string, in map[string]any) error {
	if scopeOf(typ) == awsfacts.ScopePartition && typ == tBucket {
		for _, name := range st.Taken[typ] {
			if name == id {
				// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
				return status.Errorf(codes.AlreadyExists, "creating S3 Bucket (%s): BucketAlreadyExists: The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", id)
			}
		}
	}
	existing, ok := st.Resources[keyIn(region, typ, id, nil)]
	if !ok {
		return nil
	}
	switch typ {
	case tQueue:
		return queueTaken(existing, in)
	case tSchedule:
		// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html (ConflictException);
		// a schedule's name is unique in its group (its id is group/name).
		_, name, _ := strings.Cut(id, "/")
		return status.Errorf(codes.AlreadyExists, "creating EventBridge Scheduler Schedule (%s): ConflictException: Schedule %s already exists.", name, name)
	case tScheduleGroup:
		// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateScheduleGroup.html (ConflictException)
		return status.Errorf(codes.AlreadyExists, "creating EventBridge Scheduler Schedule Group (%s): ConflictException: Schedule group %s already exists.", id, id)
	case tBucket:
		return status.Errorf(codes.AlreadyExists, "creating S3 Bucket (%s): BucketAlreadyOwnedByYou: Your previous request to create the named bucket succeeded and you already own it.", id)
	case tRole:
		return status.Errorf(codes.AlreadyExists, "creating IAM Role (%s): EntityAlreadyExists: Role with name %s already exists.", id, id)
	case tTable:
		return status.Errorf(codes.AlreadyExists, "creating DynamoDB Table (%s): ResourceInUseException: Table already exists: %s", id, id)
	case tFunction:
		return status.Errorf(codes.AlreadyExists, "creating Lambda Function (%s): ResourceConflictException: Function already exist: %s", id, id)
	case tLogGroup:
		return status.Errorf(codes.AlreadyExists, "creating CloudWatch Logs Log Group (%s): ResourceAlreadyExistsException: The specified log group already exists", id)
	case tKMSAlias:
		// https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
		return status.Errorf(codes.AlreadyExists, "creating KMS Alias (%s): AlreadyExistsException: An alias with the name arn:aws:kms:%s:%s:%s already exists", id, region, cloudsim.Account, id)
	}
	return status.Errorf(codes.AlreadyExists, "%s %q already exists in %s", typ, id, region)
}

// checkSave is what AWS checks when a resource is created or updated with
// inputs in. Some checks change what AWS reports back (out).
func checkSave(st *State, region, typ, id string, in, out map[string]any) error {
	if err := checkInputs(typ, in); err != nil {
		return err
	}
	switch typ {
	case tRole:
		return checkBoundary(st, in)
	case tKey:
		return checkKeyPrincipals(st, in)
	case tFunction:
		return checkConcurrency(st, region, id, in)
	case tLambdaAlias:
		return checkAliasVersion(st, region, in)
	case tCodeDeployApp:
		return checkApplicationName(st, region, id, in)
	case tCodeDeployDG:
		return checkDeploymentGroup(st, region, id, in)
	case tAPIAccount:
		return checkAPIGatewayRole(st, region, in)
	case tStage:
		if dest := get(in, "accessLogSettings", "destinationArn"); dest != nil && dest != "" {
			return needLoggingRole(st, region)
		}
	case tMethodSettings:
		if level, _ := get(in, "settings", "loggingLevel").(string); level == "INFO" || level == "ERROR" {
			return needLoggingRole(st, region)
		}
	case tNotification:
		return checkNotification(st, region, in)
	case tQueue:
		return checkQueue(st, region, in)
	case tRedrivePolicy:
		return checkRedrivePolicy(st, region, in)
	case tQueuePolicy:
		return checkQueuePolicy(st, region, in)
	case tRedriveAllowPolicy:
		return checkRedriveAllowPolicy(st, region, in)
	case tEventSourceMapping:
		return checkMapping(st, region, id, in)
	case tSchedule:
		return checkSchedule(st, region, in)
	case tObject:
		uploaded(st, in, out)
	}
	return nil
}

// afterSave records what a saved resource changes in the account.
func afterSave(st *State, region, typ string, in map[string]any) {
	if typ == tAPIAccount {
		if arn, _ := in["cloudwatchRoleArn"].(string); arn != "" {
			st.Account.APIGatewayCloudWatchRole[region] = arn
		}
	}
}

// checkConcurrency is Lambda keeping part of the account's concurrency
// unreserved: "You can reserve up to the Unreserved account concurrency
// value minus 100" (the whole limit, when it is below 100).
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
func checkConcurrency(st *State, region, id string, in map[string]any) error {
	want, ok := number(in["reservedConcurrentExecutions"])
	if !ok || want <= 0 {
		return nil
	}
	reserved := 0
	for k, r := range st.Resources {
		if r.Type != tFunction || r.Region != region || k == keyIn(region, tFunction, id, nil) {
			continue
		}
		if n, ok := number(r.Inputs["reservedConcurrentExecutions"]); ok && n > 0 {
			reserved += n
		}
	}
	limit, floor := st.Account.ConcurrencyLimit(), st.Account.MinUnreserved()
	if limit-reserved-want < floor {
		return status.Errorf(codes.InvalidArgument, "setting Lambda Function (%s) concurrency: InvalidParameterValueException: Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", id, floor)
	}
	return nil
}

// checkAPIGatewayRole is API Gateway testing the role when the account
// setting is saved: it assumes the role and writes to the log group
// /aws/apigateway/welcome.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
func checkAPIGatewayRole(st *State, region string, in map[string]any) error {
	arn, _ := in["cloudwatchRoleArn"].(string)
	if arn == "" {
		return nil
	}
	refuse := status.Errorf(codes.InvalidArgument, "updating API Gateway Account: BadRequestException: The role ARN does not have required permissions configured. Please grant trust permission for API Gateway and add the required role policy.")
	role, ok := findRole(st, arn)
	if !ok || !trusts(role, "apigateway.amazonaws.com") {
		return refuse
	}
	welcome := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/apigateway/welcome:log-stream:probe", region, cloudsim.Account)
	for _, action := range []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} {
		if !roleAllows(st, role, action, welcome) {
			return refuse
		}
	}
	return nil
}

// checkBoundary is IAM refusing a role whose permissions boundary is no
// managed policy of the account (or of AWS).
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
func checkBoundary(st *State, in map[string]any) error {
	arn, _ := in["permissionsBoundary"].(string)
	if arn == "" || strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") || st.Account.hasPolicy(arn) {
		return nil
	}
	name, _ := in["name"].(string)
	return status.Errorf(codes.NotFound, "creating IAM Role (%s): NoSuchEntity: Scope ARN: %s does not exist or is not attachable.", name, arn)
}

// checkKeyPrincipals is KMS refusing a key policy that names an AWS
// principal that does not exist: "Policy contains a statement with one or
// more invalid principals." (the account's root and its existing roles are
// valid principals).
// https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
func checkKeyPrincipals(st *State, in map[string]any) error {
	policy, _ := in["policy"].(string)
	if policy == "" {
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return status.Errorf(codes.InvalidArgument, "creating KMS Key: MalformedPolicyDocumentException: The key policy is not valid JSON")
	}
	list, _ := doc["Statement"].([]any)
	for _, s := range list {
		for _, p := range strings_(get(s, "Principal", "AWS")) {
			if p == "*" || p == "arn:aws:iam::"+cloudsim.Account+":root" || p == cloudsim.Account {
				continue
			}
			if _, ok := findRole(st, p); ok || st.Account.hasRole(p) {
				continue
			}
			return status.Errorf(codes.InvalidArgument, "creating KMS Key: MalformedPolicyDocumentException: Policy contains a statement with one or more invalid principals.")
		}
	}
	return nil
}

// checkApplicationName is CodeDeploy keeping application names unique in
// an account's region.
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateApplication.html
func checkApplicationName(st *State, region, id string, in map[string]any) error {
	name, _ := in["name"].(string)
	for _, r := range st.ByType(tCodeDeployApp) {
		if r.Region == region && r.ID != id && r.Inputs["name"] == name {
			return status.Errorf(codes.AlreadyExists, "creating CodeDeploy Application (%s): ApplicationAlreadyExistsException: %s already exists in your account", name, name)
		}
	}
	return nil
}

// checkDeploymentGroup is what CodeDeploy checks when a deployment group
// is saved: its application exists, its name is unique in it, CodeDeploy
// can assume its service role, and it watches at most 10 alarms.
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateDeploymentGroup.html
func checkDeploymentGroup(st *State, region, id string, in map[string]any) error {
	app, _ := in["appName"].(string)
	name, _ := in["deploymentGroupName"].(string)
	found := false
	for _, r := range st.ByType(tCodeDeployApp) {
		found = found || (r.Region == region && r.Inputs["name"] == app)
	}
	if !found {
		return status.Errorf(codes.NotFound, "creating CodeDeploy Deployment Group (%s): ApplicationDoesNotExistException: No application found for name: %s", name, app)
	}
	for _, r := range st.ByType(tCodeDeployDG) {
		if r.Region == region && r.ID != id && r.Inputs["appName"] == app && r.Inputs["deploymentGroupName"] == name {
			return status.Errorf(codes.AlreadyExists, "creating CodeDeploy Deployment Group (%s): DeploymentGroupAlreadyExistsException: A deployment group with the specified name already exists with the specified application.", name)
		}
	}
	arn, _ := in["serviceRoleArn"].(string)
	if role, ok := findRole(st, arn); !ok || !trusts(role, "codedeploy.amazonaws.com") {
		return status.Errorf(codes.InvalidArgument, "creating CodeDeploy Deployment Group (%s): InvalidRoleException: Cannot assume role provided.", name)
	}
	if alarms, _ := get(in, "alarmConfiguration", "alarms").([]any); len(alarms) > 10 {
		return status.Errorf(codes.InvalidArgument, "creating CodeDeploy Deployment Group (%s): AlarmsLimitExceededException: The maximum number of alarms for a deployment group (10) was exceeded.", name)
	}
	return nil
}

// RoleAllows says whether the role with the ARN may do action on resource,
// as the service that assumes it would find out: CodeDeploy fails a
// deployment whose role cannot move the alias.
func RoleAllows(st State, roleArn, action, resource string) bool {
	role, ok := findRole(&st, roleArn)
	return ok && roleAllows(&st, role, action, resource)
}

// needLoggingRole is API Gateway refusing stage logging in a region whose
// account setting names no CloudWatch role (execution and access logging
// alike).
func needLoggingRole(st *State, region string) error {
	if st.Account.APIGatewayCloudWatchRole[region] == "" {
		return status.Errorf(codes.InvalidArgument, "updating API Gateway Stage: BadRequestException: CloudWatch Logs role ARN must be set in account settings to enable logging")
	}
	return nil
}

// checkNotification is S3 validating a notification's destinations when
// it is saved: each function must already let s3.amazonaws.com invoke it
// from this bucket.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
func checkNotification(st *State, region string, in map[string]any) error {
	bucket, _ := in["bucket"].(string)
	bucketArn := "arn:aws:s3:::" + bucket
	fns, _ := in["lambdaFunctions"].([]any)
	for _, f := range fns {
		arn, _ := get(f, "lambdaFunctionArn").(string)
		name, qualifier := functionRef(arn, "")
		allowed := false
		for _, r := range st.Resources {
			if r.Type != tPermission || r.Region != region || r.Inputs["principal"] != "s3.amazonaws.com" || r.Inputs["sourceArn"] != bucketArn {
				continue
			}
			q, _ := r.Inputs["qualifier"].(string)
			pName, pQualifier := functionRef(fmt.Sprint(r.Inputs["function"]), q)
			allowed = allowed || (pName == name && pQualifier == qualifier)
		}
		if !allowed {
			return status.Errorf(codes.InvalidArgument, "putting S3 Bucket Notification Configuration (%s): InvalidArgument: Unable to validate the following destination configurations (Not authorized to invoke function [%s])", bucket, arn)
		}
	}
	return nil
}

// functionRef reads a function reference (a name or an ARN, optionally
// qualified) as a name and a qualifier.
func functionRef(ref, qualifier string) (string, string) {
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.Split(ref, ":")
		if len(parts) >= 7 {
			if len(parts) >= 8 {
				qualifier = parts[7]
			}
			return parts[6], qualifier
		}
	}
	return ref, qualifier
}

// published numbers the version an update publishes: one more than the
// function's last (Lambda publishes a version for every change of a
// function that publishes).
func published(old Resource, out map[string]any) {
	n, _ := strconv.Atoi(fmt.Sprint(old.Outputs["version"]))
	v := strconv.Itoa(n + 1)
	out["version"] = v
	if arn, ok := out["arn"].(string); ok {
		out["qualifiedArn"] = arn + ":" + v
	}
}

// checkAliasVersion is Lambda refusing an alias on a version that does
// not exist.
// https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
func checkAliasVersion(st *State, region string, in map[string]any) error {
	fn := fmt.Sprint(in["functionName"])
	if i := strings.LastIndex(fn, ":function:"); i >= 0 {
		fn = fn[i+len(":function:"):]
	}
	version := fmt.Sprint(in["functionVersion"])
	if version == "$LATEST" {
		return nil
	}
	for _, r := range st.Resources {
		if r.Type == tFunction && r.Region == region && r.ID == fn {
			latest, _ := strconv.Atoi(fmt.Sprint(r.Outputs["version"]))
			if n, err := strconv.Atoi(version); err == nil && n >= 1 && n <= latest {
				return nil
			}
		}
	}
	return status.Errorf(codes.NotFound, "creating Lambda Alias: ResourceNotFoundException: Function not found: arn:aws:lambda:%s:%s:function:%s:%s", region, cloudsim.Account, fn, version)
}

// MultipartThreshold is the size above which the provider uploads an
// object in parts (the AWS SDK's uploader with its default 5 MiB parts).
const MultipartThreshold = 5 << 20

// uploaded is what S3 reports for a new object: no version id while the
// bucket's versioning is not enabled, and for an object uploaded in parts
// a SHA-256 that is a checksum of the parts' checksums, "<base64>-<parts>".
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
func uploaded(st *State, in, out map[string]any) {
	bucket, _ := in["bucket"].(string)
	versioned := false
	for _, r := range st.Resources {
		if r.Type == tVersioning && r.Inputs["bucket"] == bucket && get(r.Inputs, "versioningConfiguration", "status") == "Enabled" {
			versioned = true
		}
	}
	if !versioned {
		out["versionId"] = ""
	}
	if sum, ok := out["checksumSha256"].(string); ok {
		if p, _ := get(in, "source", "path").(string); p != "" {
			if fi, err := os.Stat(p); err == nil && fi.Size() > MultipartThreshold {
				parts := (fi.Size() + MultipartThreshold - 1) / MultipartThreshold
				out["checksumSha256"] = fmt.Sprintf("%s-%d", cloudsim.CompositeOf(sum), parts)
			}
		}
	}
}

// findRole finds a role of the account by its ARN.
func findRole(st *State, arn string) (Resource, bool) {
	for _, r := range st.Resources {
		if r.Type == tRole && r.Outputs["arn"] == arn {
			return r, true
		}
	}
	return Resource{}, false
}

func trusts(role Resource, service string) bool {
	for _, s := range statements(role.Inputs["assumeRolePolicy"]) {
		if s.Effect == "Allow" && s.allows("sts:AssumeRole") && strings.Contains(fmt.Sprint(s.Principal), service) {
			return true
		}
	}
	return false
}

// managedPolicies are the AWS managed policies the stack attaches, as AWS
// publishes them.
var managedPolicies = map[string]string{
	// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonAPIGatewayPushToCloudWatchLogs.html
	"service-role/AmazonAPIGatewayPushToCloudWatchLogs": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:PutLogEvents","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"*"}]}`,
	// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaSQSQueueExecutionRole.html
	"service-role/AWSLambdaSQSQueueExecutionRole": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`,
	// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCodeDeployRoleForLambda.html
	"service-role/AWSCodeDeployRoleForLambda": `{"Version":"2012-10-17","Statement":[{"Action":["cloudwatch:DescribeAlarms","lambda:UpdateAlias","lambda:GetAlias","lambda:GetProvisionedConcurrencyConfig","sns:Publish"],"Resource":"*","Effect":"Allow"},{"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::*/CodeDeploy/*","Effect":"Allow"},{"Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:*:*:function:CodeDeployHook_*","Effect":"Allow"}]}`,
}

// roleAllows is a small IAM evaluation: whether any Allow of the role's
// inline or attached policies grants action on resource (no Deny, no
// conditions: the stack's roles use neither for these checks).
func roleAllows(st *State, role Resource, action, resource string) bool {
	var docs []any
	for _, r := range st.Resources {
		switch {
		case r.Type == tRolePolicy && (r.Inputs["role"] == role.ID || r.Inputs["role"] == role.Outputs["arn"]):
			docs = append(docs, r.Inputs["policy"])
		case r.Type == tAttachment && (r.Inputs["role"] == role.ID || r.Inputs["role"] == role.Outputs["arn"]):
			arn, _ := r.Inputs["policyArn"].(string)
			if _, p, ok := strings.Cut(arn, ":iam::aws:policy/"); ok {
				docs = append(docs, managedPolicies[p])
			}
		}
	}
	for _, d := range docs {
		for _, s := range statements(d) {
			if s.Effect == "Allow" && s.allows(action) && s.on(resource) {
				return true
			}
		}
	}
	return false
}

type statement struct {
	Effect    string
	Principal any
	Action    any
	Resource  any
}

func (s statement) allows(action string) bool {
	for _, a := range strings_(s.Action) {
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

func (s statement) on(resource string) bool {
	for _, r := range strings_(s.Resource) {
		// IAM's * matches any characters, / and : included.
		if ok, _ := path.Match(strings.ReplaceAll(r, "/", "\x00"), strings.ReplaceAll(resource, "/", "\x00")); ok {
			return true
		}
	}
	return false
}

func statements(doc any) []statement {
	text, _ := doc.(string)
	var d struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(text), &d) != nil {
		return nil
	}
	var list []statement
	if json.Unmarshal(d.Statement, &list) == nil {
		return list
	}
	var one statement
	if json.Unmarshal(d.Statement, &one) == nil {
		return []statement{one}
	}
	return nil
}

func strings_(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// get reads a nested property.
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func number(v any) (int, bool) {
	switch t := v.(type) {
	case float64:
		return int(t), true
	case int:
		return t, true
	}
	return 0, false
}
