// Package fileprocessor records uploaded files (S3 ObjectCreated events) as
// items and announces them on SNS.
package fileprocessor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/org/tap-deploy/lambda/items"
)

// Store is what the processor needs from the table.
type Store interface {
	Create(ctx context.Context, it items.Item) error
}

// Objects reads object metadata the event does not carry. version is the
// object version the event names: on a versioned bucket the newest version
// may already be another upload.
type Objects interface {
	ContentType(ctx context.Context, bucket, key, version string) (string, error)
}

// Publisher sends a message to the topic.
type Publisher interface {
	Publish(ctx context.Context, subject, message string) error
}

// Processor handles S3 events.
type Processor struct {
	Store     Store
	Objects   Objects
	Publisher Publisher
	Log       *slog.Logger
	Now       func() time.Time
}

// Handle records every object in the event. A redelivered event finds the
// item already there and neither stores nor announces it again. Any other
// failure fails the invocation, so Lambda retries and then dead-letters it.
func (p *Processor) Handle(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for _, rec := range ev.Records {
		if err := p.record(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *Processor) record(ctx context.Context, rec events.S3EventRecord) error {
	bucket := rec.S3.Bucket.Name
	// Keys arrive URL-encoded ("a+b%2Fc" for "a b/c").
	key, err := url.QueryUnescape(rec.S3.Object.Key)
	if err != nil {
		return fmt.Errorf("object key %q is not URL-encoded correctly: %w", rec.S3.Object.Key, err)
	}
	log := p.Log.With("bucket", bucket, "key", key, "event", rec.EventName)
	contentType, err := p.Objects.ContentType(ctx, bucket, key, rec.S3.Object.VersionID)
	if err != nil {
		log.Error("reading object metadata failed", "error", err.Error())
		return fmt.Errorf("reading %s/%s: %w", bucket, key, err)
	}
	now := p.Now().UTC()
	it := items.Item{
		ID:   FileID(bucket, key, rec.S3.Object.ETag, rec.S3.Object.VersionID),
		Kind: "file", Name: key, Version: 1, CreatedAt: now, UpdatedAt: now,
		Bucket: bucket, Key: key, Size: rec.S3.Object.Size, ETag: rec.S3.Object.ETag, ContentType: contentType,
	}
	switch err := p.Store.Create(ctx, it); {
	case errors.Is(err, items.ErrExists):
		log.Info("file already recorded; redelivered event ignored", "id", it.ID)
		return nil
	case err != nil:
		log.Error("recording file failed", "error", err.Error())
		return fmt.Errorf("recording %s/%s: %w", bucket, key, err)
	}
	msg, _ := json.Marshal(map[string]any{"type": "file.uploaded", "item": it})
	if err := p.Publisher.Publish(ctx, "file uploaded", string(msg)); err != nil {
		// The item is stored; a retry would find it and skip the publish,
		// so report the failure rather than lose it silently.
		log.Error("publishing file notification failed", "error", err.Error(), "id", it.ID)
		return fmt.Errorf("announcing %s/%s: %w", bucket, key, err)
	}
	log.Info("file recorded", "id", it.ID, "size", it.Size)
	return nil
}

// FileID identifies one version of one object, so the same upload always
// maps to the same item.
func FileID(bucket, key, etag, version string) string {
	sum := sha256.Sum256([]byte(bucket + "\x00" + key + "\x00" + etag + "\x00" + version))
	return "file-" + hex.EncodeToString(sum[:12])
}
