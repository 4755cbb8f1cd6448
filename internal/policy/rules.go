package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/graph"
)

// Resource types the rules name.
const (
	tIAMPolicy       = "aws:iam/policy:Policy"
	tIAMRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
	tIAMRole         = "aws:iam/role:Role"
	tIAMAttachment   = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tLambda          = "aws:lambda/function:Function"
	tLambdaPerm      = "aws:lambda/permission:Permission"
	tMethod          = "aws:apigateway/method:Method"
	tStage           = "aws:apigateway/stage:Stage"
	tMethodSettings  = "aws:apigateway/methodSettings:MethodSettings"
	tTable           = "aws:dynamodb/table:Table"
	tBucket          = "aws:s3/bucketV2:BucketV2"
	tPublicAccess    = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tBucketSSE       = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tBucketPolicy    = "aws:s3/bucketPolicy:BucketPolicy"
	tBucketVersion   = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tTopic           = "aws:sns/topic:Topic"
	tTopicPolicy     = "aws:sns/topicPolicy:TopicPolicy"
	tLogGroup        = "aws:cloudwatch/logGroup:LogGroup"
	tAlarm           = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tQueue           = "aws:sqs/queue:Queue"
	tKMSKey          = "aws:kms/key:Key"
	tKMSAlias        = "aws:kms/alias:Alias"
	tAWSProviderType = "pulumi:providers:aws"
)

// unscopable actions only accept Resource "*" in IAM.
var unscopable = map[string]bool{
	"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true, "cloudwatch:PutMetricData": true,
	"sts:GetCallerIdentity": true, "logs:DescribeLogGroups": true, "ec2:DescribeNetworkInterfaces": true,
	"ec2:CreateNetworkInterface": true, "ec2:DeleteNetworkInterface": true,
}

// allowedManagedPolicies are the AWS managed policies the stack may
// attach: each is what AWS documents for a service's own role.
var allowedManagedPolicies = map[string]bool{
	"service-role/AmazonAPIGatewayPushToCloudWatchLogs": true,
	"service-role/AWSCodeDeployRoleForLambda":           true,
}

// escalation lists IAM actions that let a principal grant itself more.
var escalation = map[string]bool{
	"iam:passrole": true, "iam:createpolicyversion": true, "iam:setdefaultpolicyversion": true,
	"iam:attachrolepolicy": true, "iam:attachuserpolicy": true, "iam:putrolepolicy": true,
	"iam:putuserpolicy": true, "iam:createaccesskey": true, "iam:updateassumerolepolicy": true,
	"iam:createloginprofile": true, "iam:updateloginprofile": true, "iam:addusertogroup": true,
}

var deprecatedRuntimes = map[string]string{
	"go1.x": "provided.al2023", "nodejs": "nodejs22.x", "nodejs4.3": "nodejs22.x", "nodejs6.10": "nodejs22.x",
	"nodejs8.10": "nodejs22.x", "nodejs10.x": "nodejs22.x", "nodejs12.x": "nodejs22.x", "nodejs14.x": "nodejs22.x",
	"nodejs16.x": "nodejs22.x", "python2.7": "python3.13", "python3.6": "python3.13", "python3.7": "python3.13",
	"python3.8": "python3.13", "dotnetcore1.0": "dotnet8", "dotnetcore2.1": "dotnet8", "dotnetcore3.1": "dotnet8",
	"dotnet6": "dotnet8", "ruby2.5": "ruby3.3", "ruby2.7": "ruby3.3", "java8": "java21", "provided": "provided.al2023",
}

var (
	secretKey   = regexp.MustCompile(`(?i)(secret|passw(or)?d|token|api[_-]?key|private[_-]?key|credential|access[_-]?key)`)
	secretValue = regexp.MustCompile(`(AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]+`)
	snsARN      = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$`)
	readAction  = regexp.MustCompile(`(?i)^[a-z0-9-]+:(get|list|describe|head|query|scan|batchget)`)
)

// Rules is every rule of docs/POLICY-RULES.md.
var Rules = []Rule{
	{ID: "CKV_AWS_62", Level: Mandatory, Title: "no IAM statement allows every action on every resource", Types: []string{tIAMPolicy, tIAMRolePolicy},
		Check: iamStatements(func(s statement) string {
			if s.Effect == "Allow" && hasAny(s.Action, "*", "*:*") && slices.Contains(s.Resource, "*") {
				return `a statement allows Action "*" on Resource "*" (full admin): list the actions and ARNs the principal needs`
			}
			return ""
		})},
	{ID: "CKV_AWS_63", Level: Mandatory, Title: `no "*" in IAM actions`, Types: []string{tIAMPolicy, tIAMRolePolicy},
		Check: iamStatements(func(s statement) string {
			if s.Effect != "Allow" {
				return ""
			}
			var wild []string
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					wild = append(wild, a)
				}
			}
			if len(s.NotAction) > 0 {
				return "an Allow statement uses NotAction, which allows every other action: list the actions instead"
			}
			if len(wild) > 0 {
				return fmt.Sprintf("actions %s use a wildcard: name each action", joinQuoted(wild))
			}
			return ""
		})},
	{ID: "CKV_AWS_355", Level: Mandatory, Title: `no Resource "*" for actions that can be scoped`, Types: []string{tIAMPolicy, tIAMRolePolicy},
		Check: iamStatements(func(s statement) string {
			if s.Effect != "Allow" || !slices.Contains(s.Resource, "*") {
				return ""
			}
			var scopable []string
			for _, a := range s.Action {
				if !unscopable[a] {
					scopable = append(scopable, a)
				}
			}
			if len(scopable) > 0 {
				return fmt.Sprintf(`actions %s apply to Resource "*": name the ARNs they act on`, joinQuoted(scopable))
			}
			return ""
		})},
	{ID: "CKV_AWS_286", Level: Mandatory, Title: "no privilege escalation (iam:PassRole on *, iam:*)", Types: []string{tIAMPolicy, tIAMRolePolicy},
		Check: iamStatements(func(s statement) string {
			if s.Effect != "Allow" {
				return ""
			}
			for _, a := range s.Action {
				l := strings.ToLower(a)
				if l == "iam:*" || (escalation[l] && slices.Contains(s.Resource, "*")) {
					return fmt.Sprintf("action %q lets the principal raise its own permissions: drop it or scope it to named roles", a)
				}
			}
			return ""
		})},
	{ID: "CKV_AWS_290", Level: Mandatory, Title: "no write access without constraints", Types: []string{tIAMPolicy, tIAMRolePolicy},
		Check: iamStatements(func(s statement) string {
			if s.Effect != "Allow" || !slices.Contains(s.Resource, "*") || len(s.Condition) > 0 {
				return ""
			}
			for _, a := range s.Action {
				if !readAction.MatchString(a) && !unscopable[a] {
					return fmt.Sprintf(`write action %q applies to Resource "*" without a Condition: scope it to ARNs`, a)
				}
			}
			return ""
		})},
	{ID: "CKV_AWS_60", Level: Mandatory, Title: "role trust policy names a specific service principal", Types: []string{tIAMRole},
		Check: func(c *checkContext, r graph.Resource) []string {
			stmts, known, err := document(r.Inputs["assumeRolePolicy"])
			if err != nil {
				return []string{"assumeRolePolicy is not valid JSON: " + err.Error()}
			}
			if !known {
				return nil
			}
			var out []string
			for _, s := range stmts {
				if s.Effect != "Allow" {
					continue
				}
				p, ok := s.Principal.(map[string]any)
				if !ok {
					out = append(out, `the trust policy allows Principal "*": name the service that assumes the role`)
					continue
				}
				for kind, v := range p {
					for _, who := range stringList(v) {
						if who == "*" {
							out = append(out, fmt.Sprintf(`the trust policy allows %s principal "*": name the service that assumes the role`, kind))
						} else if kind != "Service" {
							out = append(out, fmt.Sprintf("the trust policy lets %s principal %q assume the role: only a service principal may", kind, who))
						}
					}
				}
			}
			return out
		}},
	{ID: "CKV_AWS_274", Level: Mandatory, Title: "no AdministratorAccess", Types: []string{tIAMRole, tIAMAttachment},
		Check: func(c *checkContext, r graph.Resource) []string {
			arns := append(stringList(r.Inputs["managedPolicyArns"]), getString(r.Inputs, "policyArn"))
			for _, a := range arns {
				if strings.HasSuffix(a, "/AdministratorAccess") {
					return []string{"AdministratorAccess is attached: attach a policy with only the needed actions"}
				}
			}
			return nil
		}},
	{ID: "TAP_MANAGED_POLICY", Level: Mandatory, Title: "only the AWS managed policies the stack needs are attached", Types: []string{tIAMAttachment, tIAMRole},
		Check: func(c *checkContext, r graph.Resource) []string {
			var out []string
			for _, arn := range append(stringList(r.Inputs["managedPolicyArns"]), getString(r.Inputs, "policyArn")) {
				if arn == "" || unknown(arn) {
					continue
				}
				_, name, managed := strings.Cut(arn, ":iam::aws:policy/")
				if !managed || !allowedManagedPolicies[name] {
					out = append(out, fmt.Sprintf("policy %s is attached: roles get inline policies listing their actions; the only managed policies allowed are AWS's service-role policies for API Gateway logging and CodeDeploy on Lambda", arn))
				}
			}
			return out
		}},
	{ID: "CKV_AWS_301", Level: Mandatory, Title: "function not invokable by *", Types: []string{tLambdaPerm},
		Check: func(c *checkContext, r graph.Resource) []string {
			if p := getString(r.Inputs, "principal"); p == "*" {
				return []string{`principal "*" lets anyone invoke the function: name the service or account`}
			}
			return nil
		}},
	{ID: "CKV_AWS_364", Level: Mandatory, Title: "service principal scoped by SourceArn / SourceAccount", Types: []string{tLambdaPerm},
		Check: func(c *checkContext, r graph.Resource) []string {
			p := getString(r.Inputs, "principal")
			if !strings.HasSuffix(p, ".amazonaws.com") {
				return nil
			}
			if r.Inputs["sourceArn"] == nil && r.Inputs["sourceAccount"] == nil {
				return []string{fmt.Sprintf("%s may invoke the function on behalf of any account: set sourceArn (and sourceAccount)", p)}
			}
			return nil
		}},
	{ID: "CKV_AWS_45", Level: Mandatory, Title: "no secret-looking values in Lambda environment variables", Types: []string{tLambda},
		Check: func(c *checkContext, r graph.Resource) []string {
			vars, _ := get(r.Inputs, "environment", "variables").(map[string]any)
			var out []string
			for k, v := range vars {
				s, _ := v.(string)
				if s == "" || unknown(s) || strings.HasPrefix(s, "arn:") {
					continue
				}
				if secretKey.MatchString(k) || secretValue.MatchString(s) {
					out = append(out, fmt.Sprintf("environment variable %s looks like a secret: read it at run time from Secrets Manager or SSM", k))
				}
			}
			sort.Strings(out)
			return out
		}},
	{ID: "CKV_AWS_363", Level: Mandatory, Title: "runtime not deprecated", Types: []string{tLambda},
		Check: func(c *checkContext, r graph.Resource) []string {
			rt := getString(r.Inputs, "runtime")
			if next, bad := deprecatedRuntimes[rt]; bad {
				return []string{fmt.Sprintf("runtime %s is deprecated: use %s", rt, next)}
			}
			return nil
		}},
	{ID: "CKV_AWS_116", Level: Advisory, Title: "Lambda has a dead-letter target", Types: []string{tLambda},
		Check: func(c *checkContext, r graph.Resource) []string {
			if get(r.Inputs, "deadLetterConfig", "targetArn") == nil {
				return []string{"no deadLetterConfig: failed asynchronous events are lost; set an SQS or SNS target"}
			}
			return nil
		}},
	{ID: "CKV_AWS_115", Level: Advisory, Title: "Lambda has reserved concurrency", Types: []string{tLambda},
		Check: func(c *checkContext, r graph.Resource) []string {
			if n, ok := getNumber(r.Inputs, "reservedConcurrentExecutions"); !ok || n < 0 {
				return []string{"no reserved concurrency: one busy function can starve the others. Reserve only where the account's concurrency limit leaves room: " +
					"Lambda keeps 100 unreserved, so an account whose limit is below 100 (new accounts often have 10) cannot reserve any, and the update would fail; " +
					"check the limit (aws lambda get-account-settings), raise it through Service Quotas if needed, then set reservedConcurrency in config"}
			}
			return nil
		}},
	{ID: "CKV_AWS_59", Level: Advisory, Title: "API method requires authorization", Types: []string{tMethod},
		Check: func(c *checkContext, r graph.Resource) []string {
			if getString(r.Inputs, "authorization") == "NONE" && !c.settings.AllowPublicAPI && getString(r.Inputs, "httpMethod") != "OPTIONS" {
				return []string{"authorization is NONE: use AWS_IAM, a Cognito or Lambda authorizer, or set apiAuthorization=NONE to make the API public on purpose"}
			}
			return nil
		}},
	{ID: "CKV_AWS_76", Level: Mandatory, Title: "API stage has access logging", Types: []string{tStage},
		Check: func(c *checkContext, r graph.Resource) []string {
			if get(r.Inputs, "accessLogSettings", "destinationArn") == nil {
				return []string{"no accessLogSettings: send access logs to a CloudWatch log group"}
			}
			return nil
		}},
	{ID: "CKV2_AWS_4", Level: Mandatory, Title: "API stage has execution logging", Types: []string{tStage},
		Check: stageSettings(func(s map[string]any) string {
			if l := getString(s, "loggingLevel"); l != "ERROR" && l != "INFO" {
				return "execution logging is off: set loggingLevel ERROR or INFO in the stage's method settings"
			}
			return ""
		})},
	{ID: "CKV_AWS_276", Level: Mandatory, Title: "data trace off", Types: []string{tMethodSettings},
		Check: func(c *checkContext, r graph.Resource) []string {
			if on, _ := getBool(r.Inputs, "settings", "dataTraceEnabled"); on {
				return []string{"dataTraceEnabled logs full requests and responses, secrets included: turn it off"}
			}
			return nil
		}},
	{ID: "ES2003", Level: Mandatory, Title: "API stage has default throttling", Types: []string{tStage},
		Check: stageSettings(func(s map[string]any) string {
			rate, okRate := getNumber(s, "throttlingRateLimit")
			burst, okBurst := getNumber(s, "throttlingBurstLimit")
			if !okRate || !okBurst || rate <= 0 || burst <= 0 {
				return "no default throttling: set throttlingRateLimit and throttlingBurstLimit in the stage's method settings"
			}
			return ""
		})},
	{ID: "CKV_AWS_28", Level: Mandatory, Title: "DynamoDB point-in-time recovery on", Types: []string{tTable},
		Check: func(c *checkContext, r graph.Resource) []string {
			if on, _ := getBool(r.Inputs, "pointInTimeRecovery", "enabled"); !on {
				return []string{"point-in-time recovery is off: set pointInTimeRecovery.enabled"}
			}
			return nil
		}},
	{ID: "CKV_AWS_119", Level: Mandatory, Title: "DynamoDB server-side encryption on", Types: []string{tTable},
		Check: func(c *checkContext, r graph.Resource) []string {
			if on, _ := getBool(r.Inputs, "serverSideEncryption", "enabled"); !on {
				return []string{"server-side encryption with a KMS key is off: set serverSideEncryption.enabled"}
			}
			return nil
		}},
	{ID: "CKV2_AWS_6", Level: Mandatory, Title: "S3 public access block with all four flags (CKV_AWS_53-56)", Types: []string{tBucket},
		Check: func(c *checkContext, r graph.Resource) []string {
			blocks := c.configuring(tPublicAccess, r)
			if len(blocks) == 0 {
				return []string{"no BucketPublicAccessBlock: add one with all four flags true"}
			}
			var out []string
			for _, flag := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if on, _ := getBool(blocks[0].Inputs, flag); !on {
					out = append(out, fmt.Sprintf("public access block %s is not true", flag))
				}
			}
			return out
		}},
	{ID: "CKV_AWS_145", Level: Mandatory, Title: "S3 default encryption (CKV_AWS_19)", Types: []string{tBucket},
		Check: func(c *checkContext, r graph.Resource) []string {
			for _, sse := range c.configuring(tBucketSSE, r) {
				rules, _ := sse.Inputs["rules"].([]any)
				for _, rule := range rules {
					m, _ := rule.(map[string]any)
					if alg := getString(m, "applyServerSideEncryptionByDefault", "sseAlgorithm"); alg != "" {
						return nil
					}
				}
			}
			return []string{"no default encryption: add a BucketServerSideEncryptionConfigurationV2 (AES256 or aws:kms)"}
		}},
	{ID: "S3.5", Level: Mandatory, Title: "S3 bucket policy denies non-TLS requests", Types: []string{tBucket},
		Check: func(c *checkContext, r graph.Resource) []string {
			for _, bp := range c.configuring(tBucketPolicy, r) {
				stmts, known, _ := document(bp.Inputs["policy"])
				if !known {
					return nil
				}
				for _, s := range stmts {
					if s.Effect == "Deny" && fmt.Sprint(get(s.Condition, "Bool", "aws:SecureTransport")) == "false" {
						return nil
					}
				}
			}
			return []string{`no bucket policy denies requests with aws:SecureTransport "false": add one`}
		}},
	{ID: "CKV_AWS_21", Level: Mandatory, Title: "S3 versioning on", Types: []string{tBucket},
		Check: func(c *checkContext, r graph.Resource) []string {
			for _, v := range c.configuring(tBucketVersion, r) {
				if getString(v.Inputs, "versioningConfiguration", "status") == "Enabled" {
					return nil
				}
			}
			return []string{"versioning is not enabled: add a BucketVersioningV2 with status Enabled"}
		}},
	{ID: "CKV_AWS_26", Level: Mandatory, Title: "SNS topic encrypted", Types: []string{tTopic},
		Check: func(c *checkContext, r graph.Resource) []string {
			if r.Inputs["kmsMasterKeyId"] == nil || r.Inputs["kmsMasterKeyId"] == "" {
				return []string{"the topic is not encrypted: set kmsMasterKeyId to a customer-managed key"}
			}
			return nil
		}},
	{ID: "TAP_ALARM_TOPIC_KEY", Level: Mandatory, Title: "alarm topics use a customer-managed key CloudWatch may use", Types: []string{tTopic},
		Check: func(c *checkContext, r graph.Resource) []string {
			if !c.alarmTarget(r) {
				return nil
			}
			keyRef := r.Inputs["kmsMasterKeyId"]
			if keyRef == nil || unknown(keyRef) {
				return nil // CKV_AWS_26 reports an unencrypted topic
			}
			ref, _ := keyRef.(string)
			if strings.HasPrefix(ref, "alias/aws/") || strings.Contains(ref, ":alias/aws/") {
				return []string{fmt.Sprintf("alarms notify this topic, which is encrypted with the AWS managed key %s: CloudWatch cannot use that key, so every alarm would be dropped; encrypt it with a customer-managed key whose policy lets cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*", ref)}
			}
			key, found := c.key(ref)
			if !found {
				return nil // a key outside the stack: its policy is not visible here
			}
			if !c.keyLetsCloudWatchEncrypt(key) {
				return []string{fmt.Sprintf("alarms notify this topic, but its key %s does not let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*: every alarm would be dropped; add that to the key policy", key.Name)}
			}
			return nil
		}},
	{ID: "CKV_AWS_169", Level: Mandatory, Title: `SNS topic policy has no "*" principal`, Types: []string{tTopicPolicy},
		Check: func(c *checkContext, r graph.Resource) []string {
			stmts, known, err := document(r.Inputs["policy"])
			if err != nil {
				return []string{"the topic policy is not valid JSON: " + err.Error()}
			}
			if !known {
				return nil
			}
			for _, s := range stmts {
				if s.Effect != "Allow" {
					continue
				}
				if s.Principal == "*" || get(mapOf(s.Principal), "AWS") == "*" {
					return []string{`the topic policy allows Principal "*": name the service or account`}
				}
			}
			return nil
		}},
	{ID: "CKV_AWS_66", Level: Mandatory, Title: "CloudWatch log groups have retention (also /aws/lambda/<fn>)", Types: []string{tLogGroup, tLambda},
		Check: func(c *checkContext, r graph.Resource) []string {
			if r.Type == tLogGroup {
				if n, ok := getNumber(r.Inputs, "retentionInDays"); !ok || n <= 0 {
					return []string{"no retentionInDays: logs would be kept forever"}
				}
				return nil
			}
			name := getString(r.Inputs, "name")
			if name == "" || unknown(name) {
				return nil
			}
			want := "/aws/lambda/" + name
			for _, lg := range c.g.OfType(tLogGroup) {
				if getString(lg.Inputs, "name") == want {
					return nil
				}
			}
			return []string{fmt.Sprintf("no log group %s: Lambda would create it without retention", want)}
		}},
	{ID: "TAP_ALARM_ACTIONS", Level: Mandatory, Title: "alarm actions are SNS topic ARNs", Types: []string{tAlarm},
		Check: func(c *checkContext, r graph.Resource) []string {
			actions, _ := r.Inputs["alarmActions"].([]any)
			if len(actions) == 0 {
				return []string{"alarmActions is empty: nobody hears the alarm; add the alert topic's ARN"}
			}
			for _, a := range actions {
				if unknown(a) {
					continue
				}
				if s, _ := a.(string); !snsARN.MatchString(s) {
					return []string{fmt.Sprintf("alarm action %s is not an SNS topic ARN", valueText(a))}
				}
			}
			return nil
		}},
	{ID: "TAP_PROVIDER", Level: Mandatory, Title: "created through the stack's explicit, region-pinned provider",
		Check: func(c *checkContext, r graph.Resource) []string {
			if r.Type == tAWSProviderType {
				if getString(r.Inputs, "region") == "" {
					return []string{"the AWS provider has no region: pin it from the configuration"}
				}
				return nil
			}
			if !strings.HasPrefix(r.Type, "aws:") {
				return nil
			}
			prov := r.ProviderURN()
			if prov == "" || strings.Contains(prov, "::default") {
				return []string{"created through the default provider (ambient region): pass the stack's provider explicitly"}
			}
			return nil
		}},
	{ID: "TAP_TAGS", Level: Mandatory, Title: "taggable resources carry the common tags",
		Check: func(c *checkContext, r graph.Resource) []string {
			facts := awsfacts.Of(r.Type)
			if !facts.Taggable {
				return nil
			}
			have := map[string]bool{}
			for k := range mapOf(r.Inputs["tags"]) {
				have[k] = true
			}
			if p, ok := c.g.Get(r.ProviderURN()); ok {
				for k := range mapOf(get(p.Inputs, "defaultTags", "tags")) {
					have[k] = true
				}
			}
			if facts.Untagged != "" {
				// Tags here would need a tag permission that reaches every
				// resource of the type: this type stays untagged.
				if len(have) > 0 {
					return []string{fmt.Sprintf("carries tags %s: create it through a provider without default tags and no tags of its own (%s)", joinQuoted(slices.Sorted(maps.Keys(have))), facts.Untagged)}
				}
				return nil
			}
			var missing []string
			for _, t := range c.settings.RequiredTags {
				if !have[t] {
					missing = append(missing, t)
				}
			}
			if len(missing) > 0 {
				return []string{fmt.Sprintf("missing tags %s: set them on the provider's defaultTags", joinQuoted(missing))}
			}
			return nil
		}},
	{ID: "TAP_NAMES", Level: Mandatory, Title: "names within AWS limits",
		Check: func(c *checkContext, r graph.Resource) []string {
			facts := awsfacts.Of(r.Type)
			if facts.Name == nil {
				return nil
			}
			name := getString(r.Inputs, facts.NameKey)
			if name == "" || unknown(name) {
				return nil
			}
			if msg := facts.Name.Check(name); msg != "" {
				return []string{msg}
			}
			return nil
		}},
}

// iamStatements applies a per-statement check to a policy document.
func iamStatements(check func(statement) string) func(*checkContext, graph.Resource) []string {
	return func(c *checkContext, r graph.Resource) []string {
		stmts, known, err := document(r.Inputs["policy"])
		if err != nil {
			return []string{"the policy is not valid JSON: " + err.Error()}
		}
		if !known {
			return nil
		}
		var out []string
		for _, s := range stmts {
			if msg := check(s); msg != "" {
				out = append(out, msg)
			}
		}
		return out
	}
}

// stageSettings checks the "*/*" method settings of a stage. Settings are
// found by stage name and, when the stage's API id is known, by API.
func stageSettings(check func(settings map[string]any) string) func(*checkContext, graph.Resource) []string {
	return func(c *checkContext, r graph.Resource) []string {
		stage := getString(r.Inputs, "stageName")
		api := r.Inputs["restApi"]
		for _, ms := range c.g.OfType(tMethodSettings) {
			if getString(ms.Inputs, "methodPath") != "*/*" {
				continue
			}
			if s := ms.Inputs["stageName"]; !unknown(s) && s != stage {
				continue
			}
			if a := ms.Inputs["restApi"]; !unknown(a) && !unknown(api) && a != api {
				continue
			}
			settings, _ := ms.Inputs["settings"].(map[string]any)
			if msg := check(settings); msg != "" {
				return []string{msg}
			}
			return nil
		}
		return []string{fmt.Sprintf(`stage %q has no "*/*" method settings: add them with logging and throttling`, stage)}
	}
}

func hasAny(list []string, values ...string) bool {
	for _, v := range values {
		if slices.Contains(list, v) {
			return true
		}
	}
	return false
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
