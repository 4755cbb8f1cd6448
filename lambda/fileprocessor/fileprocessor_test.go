package fileprocessor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/lambda/fileprocessor"
	"github.com/org/tap-deploy/lambda/items"
	"github.com/org/tap-deploy/test/dynalite"
)

func s3Event(t *testing.T) events.S3Event {
	t.Helper()
	b, err := os.ReadFile("../testdata/s3-event.json")
	require.NoError(t, err)
	var ev events.S3Event
	require.NoError(t, json.Unmarshal(b, &ev))
	return ev
}

// objects answers every version's content type; asked records the
// versions read.
type objects struct {
	err   error
	asked *[]string
}

func (o objects) ContentType(_ context.Context, bucket, key, version string) (string, error) {
	if o.asked != nil {
		*o.asked = append(*o.asked, version)
	}
	if o.err != nil {
		return "", o.err
	}
	return "image/jpeg", nil
}

type publisher struct {
	mu   sync.Mutex
	msgs []string
	err  error
}

func (p *publisher) Publish(_ context.Context, subject, msg string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, msg)
	return nil
}

type store struct {
	mu    sync.Mutex
	items map[string]items.Item
	err   error
}

func (s *store) Create(_ context.Context, it items.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if _, ok := s.items[it.ID]; ok {
		return items.ErrExists
	}
	s.items[it.ID] = it
	return nil
}

func processor(st fileprocessor.Store, obj fileprocessor.Objects, pub fileprocessor.Publisher) *fileprocessor.Processor {
	return &fileprocessor.Processor{Store: st, Objects: obj, Publisher: pub, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC) }}
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name      string
		store     *store
		objects   objects
		publisher *publisher
		wantErr   string
		wantItems int
		wantMsgs  int
	}{
		{"records and announces", &store{items: map[string]items.Item{}}, objects{}, &publisher{}, "", 1, 1},
		{"metadata failure fails the event", &store{items: map[string]items.Item{}}, objects{err: errors.New("AccessDenied")}, &publisher{}, "reading sourcebucket/Happy Face.jpg", 0, 0},
		{"store failure fails the event", &store{items: map[string]items.Item{}, err: errors.New("throttled")}, objects{}, &publisher{}, "recording sourcebucket/Happy Face.jpg: throttled", 0, 0},
		{"publish failure is reported", &store{items: map[string]items.Item{}}, objects{}, &publisher{err: errors.New("KMS denied")}, "announcing", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := processor(tt.store, tt.objects, tt.publisher).Handle(context.Background(), s3Event(t))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Len(t, tt.store.items, tt.wantItems)
			assert.Len(t, tt.publisher.msgs, tt.wantMsgs)
		})
	}
}

func TestHandle_DecodesKeysAndRecordsMetadata(t *testing.T) {
	st := &store{items: map[string]items.Item{}}
	ev := s3Event(t)
	ev.Records[0].S3.Object.Key = "uploads/r%C3%A9sum%C3%A9+2026%2B1.pdf"
	var asked []string
	require.NoError(t, processor(st, objects{asked: &asked}, &publisher{}).Handle(context.Background(), ev))
	assert.Equal(t, []string{"version"}, asked, "the metadata is read from the object version the event names, not the newest")
	require.Len(t, st.items, 1)
	for _, it := range st.items {
		assert.Equal(t, "uploads/résumé 2026+1.pdf", it.Key)
		assert.Equal(t, int64(1024), it.Size)
		assert.Equal(t, "d41d8cd98f00b204e9800998ecf8427e", it.ETag)
		assert.Equal(t, "image/jpeg", it.ContentType)
		assert.Equal(t, "file", it.Kind)
	}
}

func TestHandle_RedeliveredEventStoresAndAnnouncesOnceAgainstDynamoDB(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t))
	dynalite.CreateItemsTable(t, db, "tap-test-files")
	st := items.Store{DB: db, Table: "tap-test-files"}
	pub := &publisher{}
	p := processor(st, objects{}, pub)
	ev := s3Event(t)
	require.NoError(t, p.Handle(context.Background(), ev))
	require.NoError(t, p.Handle(context.Background(), ev), "a redelivery succeeds")

	list, _, err := st.List(context.Background(), 10, "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "Happy Face.jpg", list[0].Key)
	assert.Len(t, pub.msgs, 1, "announced once")
	var msg map[string]any
	require.NoError(t, json.Unmarshal([]byte(pub.msgs[0]), &msg))
	assert.Equal(t, "file.uploaded", msg["type"])
}
