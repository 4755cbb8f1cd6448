// Command stream-processor publishes item changes.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/org/tap-deploy/lambda/awsio"
	"github.com/org/tap-deploy/lambda/streamprocessor"
)

func main() {
	log, env, cfg := awsio.Boot(true)
	p := &streamprocessor.Processor{Publisher: awsio.Publisher{Client: sns.NewFromConfig(cfg), TopicARN: env.TopicARN}, Log: log}
	lambda.Start(p.Handle)
}
