// Package awsio adapts the AWS SDK clients to the small interfaces the
// handlers consume, and starts a function with validated configuration.
package awsio

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/org/tap-deploy/lambda/items"
)

// Publisher publishes to one SNS topic.
type Publisher struct {
	Client   *sns.Client
	TopicARN string
}

// Publish sends one message.
func (p Publisher) Publish(ctx context.Context, subject, message string) error {
	_, err := p.Client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(p.TopicARN), Subject: aws.String(subject), Message: aws.String(message)})
	return err
}

// Objects reads S3 object metadata.
type Objects struct{ Client *s3.Client }

// ContentType returns the content type of one version of an object (the
// newest when version is empty; reading a version needs
// s3:GetObjectVersion).
func (o Objects) ContentType(ctx context.Context, bucket, key, version string) (string, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := o.Client.HeadObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ContentType), nil
}

// Logger is the functions' structured JSON logger.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// LoadConfig reads the AWS configuration of the function's environment.
func LoadConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return cfg, nil
}

// Boot is every function's cold start: the logger, the validated
// environment and the AWS configuration. A failure is logged and the
// process exits, so Lambda reports an init error with the reason.
func Boot(needTopic bool) (*slog.Logger, items.Env, aws.Config) {
	log := Logger()
	env, err := items.LoadEnv(os.Getenv, needTopic)
	if err == nil {
		var cfg aws.Config
		if cfg, err = LoadConfig(context.Background()); err == nil {
			return log, env, cfg
		}
	}
	log.Error("cold start failed", "error", err.Error())
	os.Exit(1)
	return nil, items.Env{}, aws.Config{}
}
