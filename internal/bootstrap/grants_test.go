package bootstrap

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
)

// A type or data source the tables lack stops the templates with an error
// that names it, says which table in which file takes it, and that its
// entry needs its Service Authorization Reference link.
func TestGrants_UnknownTypeOrDataSourceSaysWhereItsEntryGoes(t *testing.T) {
	cases := []struct {
		name  string
		model accessModel
		want  []string
	}{
		{"resource type", accessModel{graph: graph.New([]graph.Resource{{URN: "urn:pulumi:dev::tap::aws:x/y:Y::y", Type: "aws:x/y:Y", Name: "y", Custom: true}})},
			[]string{"the stack creates aws:x/y:Y", "add it to Table in internal/bootstrap/access.go"}},
		{"data source", accessModel{graph: graph.New(nil), calls: []offline.Call{{Token: "aws:x/getY:getY"}}},
			[]string{"the stack reads aws:x/getY:getY", "add it to Invokes in internal/bootstrap/access.go"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := newGrantBuilder("tap", "eu-west-1", readWrite).graph(c.model)
			for _, w := range append(c.want, "knows no IAM actions", "Docs", "https://docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html") {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}
