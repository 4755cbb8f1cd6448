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
	b, err := openBackend(ctx, s.BackendURL)
	if err != nil {
		return false, err
	}
	for _, p := range []string{path.Join(".pulumi", "stacks", s.Project, s.Stack), path.Join(".pulumi", "stacks", s.Stack)} {
		for _, k := range []string{p + ".json", p + ".json.gz"} {
			found, err := b.exists(ctx, k)
			if err != nil || found {
				return found, err
			}
		}
	}
	return false, nil
}

// LayoutWritten says whether a file:// or s3:// backend holds
// .pulumi/meta.yaml, the layout version Pulumi writes on the backend's
// first use (ErrExistsUnknown for Pulumi Cloud), by reading it only: a
// run whose role may not write the state's layout (no role of the
// bootstrap template may) cannot be a backend's first.
func LayoutWritten(ctx context.Context, s Settings) (bool, error) {
	b, err := openBackend(ctx, s.BackendURL)
	if err != nil {
		return false, err
	}
	return b.exists(ctx, LayoutKey)
}

// LayoutKey is where a self-managed backend keeps its layout version.
const LayoutKey = ".pulumi/meta.yaml"

// ErrLocksUnknown means a backend's locks are not files the action can
// read (Pulumi Cloud keeps them in its service).
var ErrLocksUnknown = errors.New("the backend's locks are kept by its service")

// Locks lists the locks an update holds on the stack in a file:// or s3://
// backend (one object per lock, under .pulumi/locks/): a refresh preview
// takes none, so a drift check reads them to avoid reporting an update in
// progress as drift.
func Locks(ctx context.Context, s Settings) ([]string, error) {
	b, err := openBackend(ctx, s.BackendURL)
	if err != nil {
		if errors.Is(err, ErrExistsUnknown) {
			return nil, ErrLocksUnknown
		}
		return nil, err
	}
	var out []string
	for _, dir := range []string{path.Join(".pulumi", "locks", "organization", s.Project, s.Stack), path.Join(".pulumi", "locks", s.Stack)} {
		names, err := b.list(ctx, dir)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

// backend reads a self-managed backend's objects by key.
type backend interface {
	exists(ctx context.Context, key string) (bool, error)
	// list names the objects directly under dir.
	list(ctx context.Context, dir string) ([]string, error)
}

func openBackend(ctx context.Context, backendURL string) (backend, error) {
	u, err := url.Parse(backendURL)
	if err != nil {
		return nil, fmt.Errorf("the backend URL is not a URL: %w", err)
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
				return nil, err
			}
			root = home + rest
		}
		return fileBackend(root), nil
	case "s3":
		return newS3Backend(ctx, u)
	}
	return nil, ErrExistsUnknown
}

type fileBackend string

func (root fileBackend) exists(_ context.Context, key string) (bool, error) {
	_, err := os.Stat(filepath.Join(string(root), filepath.FromSlash(key)))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("reading the state folder %s: %w", root, err)
}

func (root fileBackend) list(_ context.Context, dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(string(root), filepath.FromSlash(dir)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the state folder %s: %w", root, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// s3Backend reads an s3:// backend, honouring the URL's parameters as
// Pulumi does: region, endpoint, use_path_style (or s3ForcePathStyle),
// disable_https, profile.
type s3Backend struct {
	client         *s3.Client
	bucket, prefix string
}

func newS3Backend(ctx context.Context, u *url.URL) (*s3Backend, error) {
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
		return nil, fmt.Errorf("loading the AWS configuration to read the state bucket: %w", err)
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
	return &s3Backend{client: client, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}, nil
}

func (b *s3Backend) key(k string) string {
	if b.prefix == "" {
		return k
	}
	return b.prefix + "/" + k
}

// exists reads the object's head (s3:GetObject).
func (b *s3Backend) exists(ctx context.Context, k string) (bool, error) {
	key := b.key(k)
	_, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	var missing *types.NotFound
	var resp *smithyhttp.ResponseError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &missing) || (errors.As(err, &resp) && resp.HTTPStatusCode() == 404):
		return false, nil
	}
	return false, fmt.Errorf("reading s3://%s/%s (the role needs s3:GetObject and s3:ListBucket on the state bucket): %w", b.bucket, key, err)
}

// list lists the objects under dir (s3:ListBucket).
func (b *s3Backend) list(ctx context.Context, dir string) ([]string, error) {
	prefix := b.key(dir) + "/"
	var out []string
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s (the role needs s3:ListBucket on the state bucket): %w", b.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), prefix))
		}
	}
	return out, nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
