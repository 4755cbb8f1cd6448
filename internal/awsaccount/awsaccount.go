// Package awsaccount reads what an AWS account allows before an update
// changes it, so that a setting the account cannot take fails before
// anything is applied, naming the account's limit, instead of halfway
// through an update. It calls AWS with the SDK's standard configuration:
// credentials from the environment, and the SDK's endpoint variables
// (AWS_ENDPOINT_URL_LAMBDA, ...), which tests point at fakes.
package awsaccount

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Concurrency is an account's Lambda concurrency in one region.
type Concurrency struct {
	Region string
	// Limit is the account's concurrent executions limit.
	Limit int
	// Unreserved is what no function reserves now.
	Unreserved int
}

// MinUnreserved is what Lambda keeps unreserved: 100, or the whole limit
// of an account whose limit is lower (it can reserve nothing).
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
func (c Concurrency) MinUnreserved() int { return min(100, c.Limit) }

// CheckReservations says whether reserving perFunction concurrent
// executions for each of functions fits the account. current is what each
// function reserves now (a function missing from it reserves nothing): a
// reservation replaces the function's own.
func CheckReservations(c Concurrency, perFunction int, functions []string, current map[string]int) error {
	if perFunction <= 0 {
		return nil
	}
	left := c.Unreserved
	for _, f := range functions {
		left += current[f] - perFunction
	}
	if left >= c.MinUnreserved() {
		return nil
	}
	return fmt.Errorf("reservedConcurrency=%d for %d functions does not fit this account in %s: its Lambda concurrency limit is %d, %d of it unreserved now, "+
		"and Lambda keeps %d unreserved (100, or the whole limit when it is below 100), so the update would fail; nothing was changed. "+
		"Set reservedConcurrency to 0 (or at most %d), or ask AWS to raise the limit (Service Quotas: Lambda, Concurrent executions)",
		perFunction, len(functions), c.Region, c.Limit, c.Unreserved, c.MinUnreserved(), maxPerFunction(c, functions, current))
}

// maxPerFunction is the largest reservation per function that fits.
func maxPerFunction(c Concurrency, functions []string, current map[string]int) int {
	room := c.Unreserved - c.MinUnreserved()
	for _, f := range functions {
		room += current[f]
	}
	if room <= 0 || len(functions) == 0 {
		return 0
	}
	return room / len(functions)
}

// Reader reads an account's settings with the AWS SDK.
type Reader struct {
	region string
	lambda *lambda.Client
}

// New prepares a reader for a region; nothing is called yet.
func New(ctx context.Context, region string) (*Reader, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return &Reader{region: region, lambda: lambda.NewFromConfig(cfg)}, nil
}

// Concurrency reads the account's Lambda concurrency (lambda:GetAccountSettings).
func (r *Reader) Concurrency(ctx context.Context) (Concurrency, error) {
	out, err := r.lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return Concurrency{}, fmt.Errorf("reading the account's Lambda concurrency limit (lambda:GetAccountSettings): %w", err)
	}
	if out.AccountLimit == nil {
		return Concurrency{}, errors.New("reading the account's Lambda concurrency limit: the answer has no AccountLimit")
	}
	return Concurrency{Region: r.region, Limit: int(out.AccountLimit.ConcurrentExecutions), Unreserved: int(aws.ToInt32(out.AccountLimit.UnreservedConcurrentExecutions))}, nil
}

// Reserved reads what each function reserves now
// (lambda:GetFunctionConcurrency); a function that does not exist yet
// reserves nothing.
func (r *Reader) Reserved(ctx context.Context, functions []string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range functions {
		got, err := r.lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(f)})
		var missing *types.ResourceNotFoundException
		switch {
		case errors.As(err, &missing):
			continue
		case err != nil:
			return nil, fmt.Errorf("reading the reserved concurrency of %s (lambda:GetFunctionConcurrency): %w", f, err)
		}
		out[f] = int(aws.ToInt32(got.ReservedConcurrentExecutions))
	}
	return out, nil
}
