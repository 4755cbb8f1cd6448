// Package streamprocessor publishes the table's item changes to SNS.
package streamprocessor

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Publisher sends a message to the topic.
type Publisher interface {
	Publish(ctx context.Context, subject, message string) error
}

// Processor handles DynamoDB stream batches.
type Processor struct {
	Publisher Publisher
	Log       *slog.Logger
}

// Change is the message published for one record.
type Change struct {
	Type string         `json:"type"` // item.inserted, item.modified, item.removed
	ID   string         `json:"id"`
	Old  map[string]any `json:"old,omitempty"`
	New  map[string]any `json:"new,omitempty"`
}

// Handle publishes each record in order. On the first failure it reports
// that record and stops: with ReportBatchItemFailures Lambda retries from
// the reported record, so later records are redelivered in order instead of
// the whole batch replaying or one bad record blocking the shard.
func (p *Processor) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := p.record(ctx, rec); err != nil {
			p.Log.Error("publishing change failed", "eventId", rec.EventID, "sequence", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}

func (p *Processor) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	c := Change{Type: "item." + changeName(rec.EventName), Old: plain(rec.Change.OldImage), New: plain(rec.Change.NewImage)}
	if id, ok := rec.Change.Keys["id"]; ok && id.DataType() == events.DataTypeString {
		c.ID = id.String()
	}
	msg, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return p.Publisher.Publish(ctx, c.Type, string(msg))
}

func changeName(event string) string {
	switch event {
	case "INSERT":
		return "inserted"
	case "MODIFY":
		return "modified"
	case "REMOVE":
		return "removed"
	}
	return strings.ToLower(event)
}

// plain turns a stream image into plain JSON values.
func plain(img map[string]events.DynamoDBAttributeValue) map[string]any {
	if len(img) == 0 {
		return nil
	}
	out := make(map[string]any, len(img))
	for k, v := range img {
		out[k] = value(v)
	}
	return out
}

func value(v events.DynamoDBAttributeValue) any {
	switch v.DataType() {
	case events.DataTypeString:
		return v.String()
	case events.DataTypeNumber:
		return json.Number(v.Number())
	case events.DataTypeBoolean:
		return v.Boolean()
	case events.DataTypeNull:
		return nil
	case events.DataTypeStringSet:
		return v.StringSet()
	case events.DataTypeNumberSet:
		return v.NumberSet()
	case events.DataTypeList:
		var l []any
		for _, e := range v.List() {
			l = append(l, value(e))
		}
		return l
	case events.DataTypeMap:
		return plain(v.Map())
	case events.DataTypeBinary:
		return v.Binary()
	}
	return nil
}
