// Command file-processor records uploaded files.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/org/tap-deploy/lambda/awsio"
	"github.com/org/tap-deploy/lambda/fileprocessor"
	"github.com/org/tap-deploy/lambda/items"
)

func main() {
	log, env, cfg := awsio.Boot(true)
	p := &fileprocessor.Processor{
		Store:     items.Store{DB: dynamodb.NewFromConfig(cfg), Table: env.TableName},
		Objects:   awsio.Objects{Client: s3.NewFromConfig(cfg)},
		Publisher: awsio.Publisher{Client: sns.NewFromConfig(cfg), TopicARN: env.TopicARN},
		Log:       log,
		Now:       time.Now,
	}
	lambda.Start(p.Handle)
}
