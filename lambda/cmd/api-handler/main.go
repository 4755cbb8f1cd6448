// Command api-handler is the items API function.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/org/tap-deploy/lambda/api"
	"github.com/org/tap-deploy/lambda/awsio"
	"github.com/org/tap-deploy/lambda/items"
)

func main() {
	log, env, cfg := awsio.Boot(false)
	h := api.New(items.Store{DB: dynamodb.NewFromConfig(cfg), Table: env.TableName}, log)
	lambda.Start(h.Handle)
}
