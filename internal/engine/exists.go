package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrExistsUnknown means a backend's stacks cannot be looked at without the
// CLI (Pulumi Cloud): open the stack with MustExist to find out.
var ErrExistsUnknown = errors.New("the backend's stacks are looked up through the Pulumi CLI")

// StackExists says whether a file:// or s3:// backend holds the stack, by
// reading the checkpoint's object only: the CLI would write the backend's
// .pulumi/meta.yaml into an empty bucket, and a preview must work with a
// role that may only read the state. Both layouts of Pulumi's self-managed
// backends are looked at (project-scoped and legacy), compressed or not.
func StackExists(ctx context.Context, s Settings) (bool, error) {
	u, err := url.Parse(s.BackendURL)
	if err != nil {
		return false, fmt.Errorf("the backend URL is not a URL: %w", err)
	}
	var keys []string
	for _, p := range []string{path.Join(".pulumi", "stacks", s.Project, s.Stack), path.Join(".pulumi", "stacks", s.Stack)} {
		keys = append(keys, p+".json", p+".json.gz")
	}
	switch u.Scheme {
	case "file":
		root := u.Path
		if u.Host != "" { // file://relative/path
			root = u.Host + u.Path
		}
		if rest, ok := strings.CutPrefix(root, "~"); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				return false, err
			}
			root = home + rest
		}
		for _, k := range keys {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(k))); err == nil {
				return true, nil
			} else if !errors.Is(err, os.ErrNotExist) {
				return false, fmt.Errorf("reading the state folder %s: %w", root, err)
			}
		}
		return false, nil
	case "s3":
		return s3Exists(ctx, u, keys)
	}
	return false, ErrExistsUnknown
}

// s3Exists looks for the checkpoint in an s3:// backend with HeadObject
// (s3:GetObject), honouring the URL's parameters as Pulumi does: region,
// endpoint, use_path_style (or s3ForcePathStyle), disable_https, profile.
func s3Exists(ctx context.Context, u *url.URL, keys []string) (bool, error) {
	q := u.Query()
	var opts []func(*config.LoadOptions) error
	if r := q.Get("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := q.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return false, fmt.Errorf("loading the AWS configuration to read the state bucket: %w", err)
	}
	pathStyle, _ := strconv.ParseBool(firstSet(q.Get("use_path_style"), q.Get("s3ForcePathStyle")))
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		if e := q.Get("endpoint"); e != "" {
			if !strings.Contains(e, "://") {
				scheme := "https://"
				if off, _ := strconv.ParseBool(q.Get("disable_https")); off {
					scheme = "http://"
				}
				e = scheme + e
			}
			o.BaseEndpoint = aws.String(e)
		}
	})
	prefix := strings.Trim(u.Path, "/")
	for _, k := range keys {
		key := k
		if prefix != "" {
			key = prefix + "/" + k
		}
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key)})
		var missing *types.NotFound
		var resp *smithyhttp.ResponseError
		switch {
		case err == nil:
			return true, nil
		case errors.As(err, &missing) || (errors.As(err, &resp) && resp.HTTPStatusCode() == 404):
			continue
		default:
			return false, fmt.Errorf("reading s3://%s/%s (the role needs s3:GetObject and s3:ListBucket on the state bucket): %w", u.Host, key, err)
		}
	}
	return false, nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
