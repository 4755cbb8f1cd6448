package sandbox

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// Account is the sandbox cloud's AWS account id.
const Account = "123456789012"

// kind describes how the sandbox treats one resource type.
type kind struct {
	// nameKey is the input holding the physical name; it is also the id
	// unless idFrom says otherwise, and two resources of the type may not
	// share it (as in AWS).
	nameKey string
	// taggable types get tagsAll = provider default tags + tags.
	taggable bool
	// replaceKeys force a replacement when they change (ForceNew in AWS).
	replaceKeys []string
	// outputs adds the computed properties (arn, ...) for a new resource.
	outputs func(c ctx, name, id string, in map[string]any) (string, map[string]any)
}

type ctx struct{ region, urn string }

// shortID is a stable, realistic-looking id derived from the URN, so that
// golden files and repeated runs see the same values.
func shortID(urn string, n int) string {
	sum := sha256.Sum256([]byte(urn))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:n]
}

func uuidFrom(urn string) string {
	sum := sha256.Sum256([]byte("uuid:" + urn))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func str(in map[string]any, k string) string {
	s, _ := in[k].(string)
	return s
}

func named(service, resourcePart string) func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
	return func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
		return id, map[string]any{"arn": fmt.Sprintf("arn:aws:%s:%s:%s:%s%s", service, c.region, Account, resourcePart, name)}
	}
}

func byBucket(c ctx, name, id string, in map[string]any) (string, map[string]any) {
	return str(in, "bucket"), map[string]any{}
}

var kinds = map[string]kind{
	"aws:s3/bucketV2:BucketV2": {nameKey: "bucket", taggable: true, replaceKeys: []string{"bucket"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return name, map[string]any{
				"arn":                      "arn:aws:s3:::" + name,
				"bucketDomainName":         name + ".s3.amazonaws.com",
				"bucketRegionalDomainName": fmt.Sprintf("%s.s3.%s.amazonaws.com", name, c.region),
				"region":                   c.region,
				"hostedZoneId":             "Z3AQBSTGFYJSTF",
			}
		}},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketPolicy:BucketPolicy":                                                           {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketNotification:BucketNotification":                                               {replaceKeys: []string{"bucket"}, outputs: byBucket},
	"aws:s3/bucketObjectv2:BucketObjectv2": {taggable: true, replaceKeys: []string{"bucket", "key"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return str(in, "key"), map[string]any{"etag": shortID(c.urn+str(in, "key"), 32), "versionId": shortID(c.urn+str(in, "key")+"v", 32)}
		}},
	"aws:dynamodb/table:Table": {nameKey: "name", taggable: true, replaceKeys: []string{"name", "hashKey", "rangeKey"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", c.region, Account, name)
			return name, map[string]any{"arn": arn, "streamArn": arn + "/stream/2026-01-01T00:00:00.000", "streamLabel": "2026-01-01T00:00:00.000"}
		}},
	"aws:lambda/function:Function": {nameKey: "name", taggable: true, replaceKeys: []string{"name"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.region, Account, name)
			return name, map[string]any{
				"arn":          arn,
				"qualifiedArn": arn + ":$LATEST",
				"invokeArn":    fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", c.region, arn),
				"version":      "$LATEST",
				"lastModified": "2026-01-01T00:00:00.000+0000",
			}
		}},
	"aws:lambda/permission:Permission": {replaceKeys: []string{"function", "principal", "sourceArn", "sourceAccount", "statementId", "action"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			sid := str(in, "statementId")
			if sid == "" {
				sid = "terraform-" + shortID(c.urn, 20)
			}
			return sid, map[string]any{"statementId": sid}
		}},
	"aws:lambda/eventSourceMapping:EventSourceMapping": {replaceKeys: []string{"eventSourceArn", "startingPosition"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			u := uuidFrom(c.urn)
			return u, map[string]any{"uuid": u, "state": "Enabled", "functionArn": str(in, "functionName")}
		}},
	"aws:iam/role:Role":     {nameKey: "name", taggable: true, replaceKeys: []string{"name"}, outputs: iamOutputs("role")},
	"aws:iam/policy:Policy": {nameKey: "name", taggable: true, replaceKeys: []string{"name"}, outputs: iamOutputs("policy")},
	"aws:iam/rolePolicy:RolePolicy": {replaceKeys: []string{"role", "name"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return str(in, "role") + ":" + str(in, "name"), map[string]any{}
		}},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {replaceKeys: []string{"role", "policyArn"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return str(in, "role") + "-" + shortID(c.urn, 12), map[string]any{}
		}},
	"aws:cloudwatch/logGroup:LogGroup": {nameKey: "name", taggable: true, replaceKeys: []string{"name"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return name, map[string]any{"arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", c.region, Account, name)}
		}},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {nameKey: "name", taggable: true, replaceKeys: []string{"name"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return name, map[string]any{"arn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", c.region, Account, name)}
		}},
	"aws:sns/topic:Topic": {nameKey: "name", taggable: true, replaceKeys: []string{"name"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", c.region, Account, name)
			return arn, map[string]any{"arn": arn, "owner": Account}
		}},
	"aws:sns/topicPolicy:TopicPolicy": {replaceKeys: []string{"arn"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return str(in, "arn"), map[string]any{"owner": Account}
		}},
	"aws:sns/topicSubscription:TopicSubscription": {replaceKeys: []string{"topic", "protocol", "endpoint"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			arn := str(in, "topic") + ":" + uuidFrom(c.urn)
			return arn, map[string]any{"arn": arn, "pendingConfirmation": str(in, "protocol") == "email"}
		}},
	"aws:sqs/queue:Queue": {nameKey: "name", taggable: true, replaceKeys: []string{"name", "fifoQueue"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			url := fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", c.region, Account, name)
			return url, map[string]any{"arn": fmt.Sprintf("arn:aws:sqs:%s:%s:%s", c.region, Account, name), "url": url}
		}},
	"aws:kms/key:Key": {taggable: true,
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			u := uuidFrom(c.urn)
			return u, map[string]any{"arn": fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", c.region, Account, u), "keyId": u}
		}},
	"aws:kms/alias:Alias": {nameKey: "name", replaceKeys: []string{"name"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return name, map[string]any{"arn": fmt.Sprintf("arn:aws:kms:%s:%s:%s", c.region, Account, name), "targetKeyArn": str(in, "targetKeyId")}
		}},
	"aws:apigateway/restApi:RestApi": {taggable: true,
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			apiID := shortID(c.urn, 10)
			return apiID, map[string]any{
				"arn":            fmt.Sprintf("arn:aws:apigateway:%s::/restapis/%s", c.region, apiID),
				"executionArn":   fmt.Sprintf("arn:aws:execute-api:%s:%s:%s", c.region, Account, apiID),
				"rootResourceId": shortID(c.urn+"/root", 10),
				"createdDate":    "2026-01-01T00:00:00Z",
			}
		}},
	"aws:apigateway/resource:Resource": {replaceKeys: []string{"restApi", "parentId"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return shortID(c.urn, 6), map[string]any{"path": "/" + str(in, "pathPart")}
		}},
	"aws:apigateway/method:Method": {replaceKeys: []string{"restApi", "resourceId", "httpMethod"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return "agm-" + shortID(c.urn, 12), map[string]any{}
		}},
	"aws:apigateway/integration:Integration": {replaceKeys: []string{"restApi", "resourceId", "httpMethod"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return "agi-" + shortID(c.urn, 12), map[string]any{}
		}},
	"aws:apigateway/deployment:Deployment": {replaceKeys: []string{"restApi", "triggers"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return shortID(c.urn+fmt.Sprint(in["triggers"]), 6), map[string]any{"createdDate": "2026-01-01T00:00:00Z"}
		}},
	"aws:apigateway/stage:Stage": {taggable: true, replaceKeys: []string{"restApi", "stageName"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			api := str(in, "restApi")
			stage := str(in, "stageName")
			return "ags-" + api + "-" + stage, map[string]any{
				"arn":          fmt.Sprintf("arn:aws:apigateway:%s::/restapis/%s/stages/%s", c.region, api, stage),
				"executionArn": fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s", c.region, Account, api, stage),
				"invokeUrl":    fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", api, c.region, stage),
			}
		}},
	"aws:apigateway/methodSettings:MethodSettings": {replaceKeys: []string{"restApi", "stageName", "methodPath"},
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return str(in, "restApi") + "-" + str(in, "stageName") + "-" + str(in, "methodPath"), map[string]any{}
		}},
	"aws:apigateway/account:Account": {
		outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
			return "api-gateway-account", map[string]any{}
		}},
}

func iamOutputs(kindName string) func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
	return func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
		arn := fmt.Sprintf("arn:aws:iam::%s:%s/%s", Account, kindName, name)
		out := map[string]any{"arn": arn, "uniqueId": "AROA" + strings.ToUpper(shortID(c.urn, 17))}
		if kindName == "policy" {
			return arn, out
		}
		return name, out
	}
}

// kindOf returns the behaviour of a type; unknown types get a generic one so
// that the stack can grow without the sandbox refusing new resources.
func kindOf(typ string) kind {
	if k, ok := kinds[typ]; ok {
		return k
	}
	return kind{outputs: func(c ctx, name, id string, in map[string]any) (string, map[string]any) {
		return shortID(c.urn, 12), map[string]any{}
	}}
}
