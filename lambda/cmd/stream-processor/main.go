// Command stream-processor publishes item changes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/org/tap-deploy/lambda/awsio"
	"github.com/org/tap-deploy/lambda/items"
	"github.com/org/tap-deploy/lambda/streamprocessor"
)

func main() {
	log := awsio.Logger()
	env, err := items.LoadEnv(os.Getenv, true)
	if err != nil {
		awsio.Fail(log, err)
	}
	cfg, err := awsio.LoadConfig(context.Background())
	if err != nil {
		awsio.Fail(log, err)
	}
	p := &streamprocessor.Processor{Publisher: awsio.Publisher{Client: sns.NewFromConfig(cfg), TopicARN: env.TopicARN}, Log: log}
	lambda.Start(p.Handle)
}
