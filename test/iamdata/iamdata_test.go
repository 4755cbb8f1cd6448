package iamdata

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/test/requires"
)

// What the Service Authorization Reference says, for the cases the
// bootstrap issue found wrong and their right forms.
func TestData_AnswersAsTheServiceAuthorizationReference(t *testing.T) {
	d := Open(requires.IAMData(t))
	assert.NoError(t, d.Exists("kms:DescribeKey"))
	assert.ErrorContains(t, d.Exists("kms:DescribeKeys"), "no action of kms")
	assert.ErrorContains(t, d.Exists("nosuch:Thing"), "no AWS service prefix")

	for prefix, page := range map[string]string{
		"s3":  "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		"iam": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html",
		"sts": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html",
	} {
		got, err := d.AuthorizationPage(prefix)
		assert.NoError(t, err)
		assert.Equal(t, page, got, prefix)
	}
	_, err := d.AuthorizationPage("nosuch")
	assert.ErrorContains(t, err, "no AWS service prefix")

	keys := []struct {
		action, resource, key string
		applies               bool
	}{
		{"kms:DescribeKey", "arn:aws:kms:eu-west-1:1:key/*", "kms:ResourceAliases", true},
		{"kms:DescribeKey", "arn:aws:kms:eu-west-1:1:key/*", "aws:ResourceTag/project", true},
		{"kms:CreateKey", "*", "kms:ResourceAliases", false},
		// API Gateway's /tags has no condition keys.
		{"apigateway:GET", "arn:aws:apigateway:eu-west-1::/tags/*", "aws:ResourceTag/project", false},
		{"apigateway:GET", "arn:aws:apigateway:eu-west-1::/restapis/*", "aws:ResourceTag/project", true},
		{"lambda:CreateEventSourceMapping", "*", "lambda:FunctionArn", true},
		{"lambda:ListTags", "arn:aws:lambda:eu-west-1:1:event-source-mapping:*", "lambda:FunctionArn", false},
		{"s3:GetObject", "arn:aws:s3:::b/*", "s3:prefix", false},
		{"s3:ListBucket", "arn:aws:s3:::b", "s3:prefix", true},
		{"iam:UpdateAssumeRolePolicy", "arn:aws:iam::1:role/x", "iam:PermissionsBoundary", true},
		{"iam:TagRole", "arn:aws:iam::1:role/x", "iam:PermissionsBoundary", false},
		{"s3:GetObject", "arn:aws:s3:::b/*", "aws:SecureTransport", true},
	}
	for _, k := range keys {
		got := d.KeyApplies(k.action, k.resource, k.key)
		assert.Equal(t, k.applies, got == "", "%s %s on %s: %s", k.key, k.action, k.resource, got)
	}

	resources := []struct {
		action, resource string
		ok               bool
	}{
		{"logs:CreateLogStream", "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x:*", true},
		{"codedeploy:CreateApplication", "arn:aws:codedeploy:eu-west-1:1:deploymentconfig:CodeDeployDefault.Lambda*", false},
		{"codedeploy:GetDeploymentConfig", "arn:aws:codedeploy:eu-west-1:1:deploymentconfig:CodeDeployDefault.Lambda*", true},
		{"iam:PutRolePolicy", "arn:aws:iam::1:policy/tap-dev-boundary-eu-west-1", false},
		{"lambda:GetAccountSettings", "arn:aws:lambda:eu-west-1:1:function:x", false},
		{"lambda:GetAccountSettings", "*", true},
	}
	for _, r := range resources {
		got := d.ResourceMatches(r.action, r.resource)
		assert.Equal(t, r.ok, got == "", "%s on %s: %s", r.action, r.resource, got)
	}
}
