package program_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing/fstest"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/program"
)

// A queue worker declares its keys, its one package and the function
// that shifts; Validate names what is wrong before anything runs.
func ExampleProgram_Validate() {
	zips := fstest.MapFS{"zips/worker.zip": {Data: []byte("PK\x03\x04...")}}
	worker := program.Program{
		Name:      "queue worker",
		Namespace: "worker",
		Keys: []program.Key{
			{Name: "batchSize", Kind: program.Int, Default: "10"},
			{Name: "batchSize", Kind: program.Int, Default: "5"},
		},
		Packages: []program.Package{
			{Function: "worker", FS: zips, Path: "zips/worker.zip"},
			{Function: "reporter", FS: zips, Path: "zips/reporter.zip"},
		},
		Shift: []string{"worker", "schedule"},
		Run:   func(*pulumi.Context, program.Stack) error { return nil },
	}
	fmt.Println(worker.Validate())
	// Output:
	// program "queue worker": key "batchSize" is declared twice
	// program "queue worker": function "reporter": the package zips/reporter.zip is missing from the binary: build the zip before compiling the program
	// program "queue worker": function "schedule" is asked to shift but has no package; Shift lists functions of Packages, declared with canary.NewFunction
}

// Configure fills the defaults, checks every override by its kind and
// its own Check, and never echoes a refused value.
func ExampleProgram_Configure() {
	worker := program.Program{Keys: []program.Key{
		{Name: "batchSize", Kind: program.Int, Default: "10", Check: func(v string) error {
			if n, _ := strconv.Atoi(v); n < 1 || n > 10000 {
				return errors.New("must be from 1 to 10000 (SQS's limit for a standard queue)")
			}
			return nil
		}},
		{Name: "logRetentionDays", Kind: program.Int, Default: "14", ReviewDefault: "3", Loosens: program.WhenLowered},
	}}
	values, _ := worker.Configure(map[string]string{"batchSize": "50"}, "config")
	fmt.Println(values["batchSize"], values["logRetentionDays"])
	review, _ := worker.ConfigureReviewStack(nil, "config")
	fmt.Println(review["logRetentionDays"])
	_, err := worker.Configure(map[string]string{"batchSize": "0", "queue": "jobs"}, "config")
	fmt.Println(err)
	fmt.Println(worker.Loosened(values, review))
	// Output:
	// 50 14
	// 3
	// config batchSize: must be from 1 to 10000 (SQS's limit for a standard queue)
	// config key "queue" is unknown; known keys: batchSize, logRetentionDays
	// [logRetentionDays]
}
