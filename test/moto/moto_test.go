package moto_test

import (
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/moto"
)

func TestStart_ServesOnLoopbackAndStopsWithTheTest(t *testing.T) {
	var endpoint string
	t.Run("server", func(t *testing.T) {
		endpoint = moto.Start(t)
		u, err := url.Parse(endpoint)
		require.NoError(t, err)
		host, _, err := net.SplitHostPort(u.Host)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", host, "loopback only")

		id, err := sts.NewFromConfig(moto.Config(endpoint, "eu-west-1")).GetCallerIdentity(moto.Context(t), &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		assert.Equal(t, moto.Account, aws.ToString(id.Account), "the account the sandbox and the offline model use")
	})
	u, _ := url.Parse(endpoint)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		require.True(t, time.Now().Before(deadline), "moto_server still answers on %s after its test ended", u.Host)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReset_ForgetsEveryResource(t *testing.T) {
	endpoint := moto.Start(t)
	s3c := s3.NewFromConfig(moto.Config(endpoint, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := moto.Context(t)
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("kept-until-reset")})
	require.NoError(t, err)
	_, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("kept-until-reset")})
	require.NoError(t, err)

	moto.Reset(t, endpoint)
	_, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("kept-until-reset")})
	var missing *types.NotFound
	assert.True(t, errors.As(err, &missing), "after a reset the bucket is gone: %v", err)
}
