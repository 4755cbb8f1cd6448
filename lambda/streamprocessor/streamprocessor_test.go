package streamprocessor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/lambda/streamprocessor"
)

type publisher struct {
	msgs   []string
	failOn int // 1-based call that fails; 0 never
	calls  int
}

func (p *publisher) Publish(_ context.Context, subject, msg string) error {
	p.calls++
	if p.calls == p.failOn {
		return errors.New("throttled")
	}
	p.msgs = append(p.msgs, msg)
	return nil
}

func batch(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile("../testdata/dynamodb-event.json")
	require.NoError(t, err)
	var ev events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(b, &ev))
	// Make it a realistic change set of the items table.
	ev.Records[1].EventName = "MODIFY"
	for i := range ev.Records {
		ev.Records[i].Change.SequenceNumber = []string{"111", "222"}[i]
		ev.Records[i].Change.Keys = map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute("item-" + string(rune('a'+i)))}
	}
	remove := ev.Records[1]
	remove.EventName = "REMOVE"
	remove.Change.SequenceNumber = "333"
	remove.Change.OldImage = remove.Change.NewImage
	remove.Change.NewImage = nil
	ev.Records = append(ev.Records, remove)
	return ev
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name     string
		failOn   int
		failures []string
		msgs     int
	}{
		{"publishes every change", 0, nil, 3},
		{"first failure is reported and processing stops", 2, []string{"222"}, 1},
		{"failure on the last record", 3, []string{"333"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &publisher{failOn: tt.failOn}
			p := &streamprocessor.Processor{Publisher: pub, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			resp, err := p.Handle(context.Background(), batch(t))
			require.NoError(t, err, "failures are reported per record, not as an invocation error")
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			assert.Equal(t, tt.failures, got)
			assert.Len(t, pub.msgs, tt.msgs)
		})
	}
}

func TestHandle_MessagesDescribeTheChange(t *testing.T) {
	pub := &publisher{}
	p := &streamprocessor.Processor{Publisher: pub, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	_, err := p.Handle(context.Background(), batch(t))
	require.NoError(t, err)
	var types []string
	for _, m := range pub.msgs {
		var c streamprocessor.Change
		require.NoError(t, json.Unmarshal([]byte(m), &c))
		types = append(types, c.Type)
		assert.NotEmpty(t, c.ID)
	}
	assert.Equal(t, []string{"item.inserted", "item.modified", "item.removed"}, types)
	var removed streamprocessor.Change
	require.NoError(t, json.Unmarshal([]byte(pub.msgs[2]), &removed))
	assert.Nil(t, removed.New)
	assert.NotNil(t, removed.Old)
}
