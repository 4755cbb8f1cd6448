// Command api-handler is the items API function.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/org/tap-deploy/lambda/api"
	"github.com/org/tap-deploy/lambda/awsio"
	"github.com/org/tap-deploy/lambda/items"
)

func main() {
	log := awsio.Logger()
	env, err := items.LoadEnv(os.Getenv, false)
	if err != nil {
		awsio.Fail(log, err)
	}
	cfg, err := awsio.LoadConfig(context.Background())
	if err != nil {
		awsio.Fail(log, err)
	}
	h := api.New(items.Store{DB: dynamodb.NewFromConfig(cfg), Table: env.TableName}, log)
	lambda.Start(h.Handle)
}
