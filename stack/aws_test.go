package stack_test

// What a real AWS account asks of the stack beyond the sandbox's defaults:
// names unique where AWS keeps them unique, exact permissions, the API
// Gateway account setting's one owner. The sandbox enforces the same rules
// end to end (test/e2e/aws_test.go).

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// physicalNames lists every named resource of a graph as "type name".
func physicalNames(g *graph.Graph) []string {
	var out []string
	for _, r := range g.Resources {
		facts := awsfacts.Of(r.Type)
		if facts.Name == nil {
			continue
		}
		name, _ := r.Inputs[facts.NameKey].(string)
		out = append(out, fmt.Sprintf("%-40s %s", r.Type, name))
	}
	sort.Strings(out)
	return out
}

// Names are an API: renaming a bucket or a table replaces it. A change of
// naming shows in review as a change of this golden file.
func TestNames_AreTheGoldenOnes(t *testing.T) {
	env := stacktest.Config(t, map[string]string{"manageApiGatewayAccount": "true"})
	review, err := stack.NewReviewStackConfig(env.Base, nil, 7)
	require.NoError(t, err)
	var b strings.Builder
	for _, c := range []struct {
		title string
		cfg   stack.Config
	}{{"tap / dev in eu-west-1, account 123456789012 (manageApiGatewayAccount=true)", env}, {"its review stack for pull request #7", review}} {
		fmt.Fprintf(&b, "# %s\n", c.title)
		for _, n := range physicalNames(collect(t, c.cfg)) {
			b.WriteString(n + "\n")
		}
		b.WriteString("\n")
	}
	golden := filepath.Join("testdata", "names.golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./stack -run TestNames -update to write it")
	assert.Equal(t, string(want), b.String(), "physical names changed: existing stacks would have these resources replaced; if that is intended, run go test ./stack -run TestNames -update and say so in the changelog")
}

func TestNames_GlobalNamesDifferBetweenRegionsAndAccounts(t *testing.T) {
	global := func(cfg stack.Config, account string) map[string]bool {
		out := map[string]bool{}
		for _, nm := range stack.PlannedNames(cfg, account) {
			if nm.Kind.Scope == awsfacts.ScopeAccount || nm.Kind.Scope == awsfacts.ScopePartition {
				out[nm.Name] = true
			}
		}
		return out
	}
	eu := stacktest.Config(t, nil)
	us := eu
	us.Region = "us-east-1"
	euNames, usNames := global(eu, "123456789012"), global(us, "123456789012")
	require.NotEmpty(t, euNames)
	for n := range euNames {
		assert.False(t, usNames[n], "%s is the same in two regions of one account: IAM and S3 would refuse the second", n)
	}
	other := global(eu, "210987654321")
	for _, nm := range stack.PlannedNames(eu, "123456789012") {
		if nm.Kind.Scope == awsfacts.ScopePartition {
			assert.False(t, other[nm.Name], "bucket %s would collide with another account's", nm.Name)
		}
	}
	// The graph's bucket names carry the account the program read.
	for _, b := range collect(t, eu).OfType("aws:s3/bucketV2:BucketV2") {
		assert.Contains(t, b.Inputs["bucket"], "-123456789012-eu-west-1")
	}
}

func TestNames_LongestInputsKeepTheScopeSuffixWhole(t *testing.T) {
	cfg, err := stack.NewReviewStackConfig(stack.Base{Project: strings.Repeat("p", 30), Environment: "e" + strings.Repeat("n", 19), Region: "ap-southeast-2"},
		map[string]string{"environmentSuffix": strings.Repeat("s", 20)}, 999999)
	require.NoError(t, err)
	for _, nm := range stack.PlannedNames(cfg, "123456789012") {
		assert.Empty(t, nm.Kind.Check(nm.Name), nm.Name)
		switch nm.Kind.Scope {
		case awsfacts.ScopeAccount:
			assert.True(t, strings.HasSuffix(nm.Name, "-ap-southeast-2"), nm.Name)
		case awsfacts.ScopePartition:
			assert.True(t, strings.HasSuffix(nm.Name, "-123456789012-ap-southeast-2"), nm.Name)
		}
	}
}

func TestConfig_RefusesNamesAWSReservesOrReviewStacksUse(t *testing.T) {
	for _, tt := range []struct {
		base      stack.Base
		overrides map[string]string
		want      string
	}{
		{stack.Base{Project: "xn--tap", Environment: "dev", Region: "eu-west-1"}, nil, `starts with "xn--", which AWS reserves`},
		{stack.Base{Project: "sthree-tap", Environment: "dev", Region: "eu-west-1"}, nil, `starts with "sthree-", which AWS reserves`},
		{stack.Base{Project: "amzn-s3-demo-x", Environment: "dev", Region: "eu-west-1"}, nil, `starts with "amzn-s3-demo-"`},
		{stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, map[string]string{"environmentSuffix": "dev-pr-12"}, "must not end in -pr-<number>"},
	} {
		_, err := stack.NewConfig(tt.base, tt.overrides)
		require.Error(t, err, tt.want)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// Every role allows exactly what its function calls: FunctionAccess, no
// more (least privilege) and no fewer (a call AWS would refuse).
func TestProgram_EveryRoleAllowsExactlyItsFunctionsCalls(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	for _, spec := range stack.Functions {
		policy := findByName(t, g.OfType("aws:iam/rolePolicy:RolePolicy"), spec.Component)
		var doc stack.PolicyDocument
		require.NoError(t, json.Unmarshal([]byte(policy.Inputs["policy"].(string)), &doc))
		var got, want []string
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				for _, r := range s.Resource {
					got = append(got, a+" "+r)
				}
			}
		}
		for _, access := range stack.FunctionAccess[spec.Key] {
			for _, a := range access.Actions {
				want = append(want, a)
			}
		}
		sort.Strings(got)
		var actions []string
		for _, ar := range got {
			actions = append(actions, strings.Fields(ar)[0])
		}
		sort.Strings(want)
		assert.Equal(t, want, actions, spec.Key)
		for _, ar := range got {
			assert.NotContains(t, ar, "/index/", "%s: no handler queries an index", spec.Key)
			assert.NotContains(t, ar, "dynamodb:ListStreams", "%s: ListStreams cannot be scoped to a stream and nothing calls it", spec.Key)
		}
	}
	assert.NotContains(t, strings.Join(stack.FunctionAccess[stack.APIHandler.Key][2].Actions, " "), "UpdateItem", "the API handler replaces items with PutItem")
}

func TestProgram_TheAPIGatewayAccountSettingHasOneOwner(t *testing.T) {
	assert.Empty(t, collect(t, stacktest.Config(t, nil)).OfType("aws:apigateway/account:Account"), "off by default: one setting per account and region")

	g := collect(t, stacktest.Config(t, map[string]string{"manageApiGatewayAccount": "true"}))
	accounts := g.OfType("aws:apigateway/account:Account")
	require.Len(t, accounts, 1)
	role := findByName(t, g.OfType("aws:iam/role:Role"), "api-cloudwatch")
	attachment := findByName(t, g.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), "api-cloudwatch")
	assert.Equal(t, "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs", attachment.Inputs["policyArn"],
		"API Gateway tests the role by writing to /aws/apigateway/welcome; access logs go to groups of any name")
	assert.NotContains(t, role.Inputs["assumeRolePolicy"], "aws:SourceAccount", "API Gateway does not send it for this role")
	assert.Contains(t, accounts[0].DependsOn, attachment.URN, "the setting waits for the policy, not only the role")
	for _, r := range []graph.Resource{role, attachment, accounts[0]} {
		assert.True(t, r.Retain, "%s %s outlives the stack: destroying the owner must not leave the region pointing at a deleted role", r.Type, r.Name)
	}
}

func TestProgram_CodeObjectsWaitForVersioningAndCarryTheirDigest(t *testing.T) {
	code := stacktest.Packages(t, "a")
	g := collect(t, stacktest.Config(t, nil))
	versioning := findByName(t, g.OfType("aws:s3/bucketVersioningV2:BucketVersioningV2"), "artifacts")
	objects := g.OfType("aws:s3/bucketObjectv2:BucketObjectv2")
	require.Len(t, objects, 3)
	for _, o := range objects {
		assert.True(t, slices.Contains(o.DependsOn, versioning.URN), "%s is written after versioning is on, or it gets no version to pin", o.Name)
		meta, _ := o.Inputs["metadata"].(map[string]any)
		key, _ := o.Inputs["key"].(string)
		found := false
		for _, c := range code {
			found = found || (strings.Contains(key, c.SHA256) && meta[stack.DigestMetadata] == c.SHA256)
		}
		assert.True(t, found, "%s keeps its package digest in its metadata: %v", o.Name, meta)
	}
}

func TestProgram_FileProcessorReadsTheVersionTheEventNames(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	policy := findByName(t, g.OfType("aws:iam/rolePolicy:RolePolicy"), "file-processor")
	assert.Contains(t, policy.Inputs["policy"], `"s3:GetObjectVersion"`)
}

// The offline graph uses the account it reads, never a constant.
func TestProgram_NamesCarryTheAccountItReads(t *testing.T) {
	g, err := offline.Collect(stack.Program(stacktest.Config(t, nil), stacktest.Packages(t, "a")), "tap", "dev", "eu-west-1")
	require.NoError(t, err)
	for _, b := range g.OfType("aws:s3/bucketV2:BucketV2") {
		assert.Regexp(t, `^tap-dev-(files|artifacts)-[0-9]{12}-eu-west-1$`, b.Inputs["bucket"])
	}
}
