// Package items is the data model of the items service and its DynamoDB
// store, shared by the three functions.
package items

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is one stored item. Uploaded files are items too (Kind "file").
type Item struct {
	ID          string    `json:"id" dynamodbav:"id"`
	Kind        string    `json:"kind" dynamodbav:"kind"`
	Name        string    `json:"name" dynamodbav:"name"`
	Description string    `json:"description,omitempty" dynamodbav:"description,omitempty"`
	Version     int       `json:"version" dynamodbav:"version"`
	CreatedAt   time.Time `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	// File metadata, for Kind "file".
	Bucket      string `json:"bucket,omitempty" dynamodbav:"bucket,omitempty"`
	Key         string `json:"key,omitempty" dynamodbav:"key,omitempty"`
	Size        int64  `json:"size,omitempty" dynamodbav:"size,omitempty"`
	ETag        string `json:"etag,omitempty" dynamodbav:"etag,omitempty"`
	ContentType string `json:"contentType,omitempty" dynamodbav:"contentType,omitempty"`
}

// Errors the store returns for the handlers to map to HTTP statuses.
var (
	ErrNotFound = errors.New("item not found")
	ErrConflict = errors.New("item version conflict")
	ErrExists   = errors.New("item already exists")
	ErrCursor   = errors.New("invalid cursor")
)

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Store keeps items in one table.
type Store struct {
	DB    DynamoDB
	Table string
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
}

// Create stores a new item; ErrExists if its id is taken. Retries of the
// same event therefore store nothing twice.
func (s Store) Create(ctx context.Context, it Item) error {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	if isConditionFailed(err) {
		return ErrExists
	}
	return err
}

// Get returns one item.
func (s Store) Get(ctx context.Context, id string) (Item, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Item{}, err
	}
	if out.Item == nil {
		return Item{}, ErrNotFound
	}
	var it Item
	return it, attributevalue.UnmarshalMap(out.Item, &it)
}

// Replace writes it over the stored item if the stored version is
// expected; the written item gets version expected+1.
func (s Store) Replace(ctx context.Context, it Item, expected int) (Item, error) {
	it.Version = expected + 1
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return Item{}, err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.Table),
		Item:                      av,
		ConditionExpression:       aws.String("attribute_exists(id) AND version = :expected"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":expected": &types.AttributeValueMemberN{Value: fmt.Sprint(expected)}},
	})
	if isConditionFailed(err) {
		// Tell a missing item from a stale version.
		if _, gerr := s.Get(ctx, it.ID); errors.Is(gerr, ErrNotFound) {
			return Item{}, ErrNotFound
		}
		return Item{}, ErrConflict
	}
	return it, err
}

// Delete removes an item; ErrNotFound if there is none.
func (s Store) Delete(ctx context.Context, id string) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.Table), Key: key(id), ConditionExpression: aws.String("attribute_exists(id)"),
	})
	if isConditionFailed(err) {
		return ErrNotFound
	}
	return err
}

// List returns up to limit items after cursor, and the cursor of the next
// page ("" on the last page).
func (s Store) List(ctx context.Context, limit int, cursor string) ([]Item, string, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(s.Table), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		start, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", ErrCursor
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.DB.Scan(ctx, in)
	if err != nil {
		return nil, "", err
	}
	list := make([]Item, 0, len(out.Items))
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &list); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		next = encodeCursor(out.LastEvaluatedKey)
	}
	return list, next, nil
}

// The cursor is the last key, opaque to clients: base64url of its id.
func encodeCursor(k map[string]types.AttributeValue) string {
	id := ""
	if s, ok := k["id"].(*types.AttributeValueMemberS); ok {
		id = s.Value
	}
	b, _ := json.Marshal(map[string]string{"id": id})
	return base64.RawURLEncoding.EncodeToString(b)
}

var cursorID = regexp.MustCompile(`^[A-Za-z0-9:/._-]+$`)

func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, err
	}
	var v map[string]string
	if err := json.Unmarshal(b, &v); err != nil || len(v["id"]) > 1024 || !cursorID.MatchString(v["id"]) {
		return nil, ErrCursor
	}
	return key(v["id"]), nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
