// Package api is the items API behind API Gateway (Lambda proxy events).
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/org/tap-deploy/lambda/items"
)

// Store is what the API needs from storage.
type Store interface {
	Create(ctx context.Context, it items.Item) error
	Get(ctx context.Context, id string) (items.Item, error)
	Replace(ctx context.Context, it items.Item, expected int) (items.Item, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, limit int, cursor string) ([]items.Item, string, error)
}

var _ Store = items.Store{}

// Limits on requests.
const (
	MaxBodyBytes   = 16 * 1024
	MaxName        = 200
	MaxDescription = 2000
	DefaultLimit   = 20
	MaxLimit       = 100
)

// Handler serves the items API.
type Handler struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time
	NewID func() string
}

// New returns a handler with real clock and ids.
func New(store Store, log *slog.Logger) *Handler {
	return &Handler{Store: store, Log: log, Now: time.Now, NewID: randomID}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Handle routes one request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	requestID := req.RequestContext.RequestID
	if lc, ok := lambdacontext.FromContext(ctx); ok && requestID == "" {
		requestID = lc.AwsRequestID
	}
	log := h.Log.With("requestId", requestID, "method", req.HTTPMethod, "resource", req.Resource)
	resp := h.route(ctx, req, log)
	resp.Headers = map[string]string{"Content-Type": "application/json", "X-Request-Id": requestID}
	log.Info("request", "status", resp.StatusCode)
	return resp, nil
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayProxyRequest, log *slog.Logger) events.APIGatewayProxyResponse {
	id := req.PathParameters["id"]
	switch req.Resource {
	case "/items":
		switch req.HTTPMethod {
		case http.MethodGet:
			return h.list(ctx, req, log)
		case http.MethodPost:
			return h.create(ctx, req, log)
		}
		return problem(http.StatusMethodNotAllowed, "use GET or POST on /items")
	case "/items/{id}":
		if !idPattern.MatchString(id) {
			return problem(http.StatusBadRequest, "id must be 1-64 letters, digits, '-' or '_'")
		}
		switch req.HTTPMethod {
		case http.MethodGet:
			return h.get(ctx, id, log)
		case http.MethodPut:
			return h.update(ctx, id, req, log)
		case http.MethodDelete:
			return h.delete(ctx, id, log)
		}
		return problem(http.StatusMethodNotAllowed, "use GET, PUT or DELETE on /items/{id}")
	}
	return problem(http.StatusNotFound, "no such route")
}

// input is the body of POST and PUT.
type input struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     *int   `json:"version"`
}

func decode(req events.APIGatewayProxyRequest) (input, *events.APIGatewayProxyResponse) {
	body := req.Body
	if len(body) > MaxBodyBytes {
		p := problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("body is %d bytes; the limit is %d", len(body), MaxBodyBytes))
		return input{}, &p
	}
	if req.IsBase64Encoded {
		p := problem(http.StatusUnsupportedMediaType, "send the body as application/json text")
		return input{}, &p
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var in input
	if err := dec.Decode(&in); err != nil {
		p := problem(http.StatusBadRequest, "body is not a valid item: "+jsonProblem(err))
		return input{}, &p
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		p := problem(http.StatusBadRequest, "body holds more than one JSON value")
		return input{}, &p
	}
	var problems []string
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		problems = append(problems, "name is required")
	case utf8.RuneCountInString(name) > MaxName:
		problems = append(problems, fmt.Sprintf("name is longer than %d characters", MaxName))
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		problems = append(problems, fmt.Sprintf("description is longer than %d characters", MaxDescription))
	}
	if len(problems) > 0 {
		p := problem(http.StatusBadRequest, strings.Join(problems, "; "))
		return input{}, &p
	}
	in.Name = name
	return in, nil
}

// jsonProblem describes a decoding error without echoing the body back.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	return "malformed JSON"
}

func (h *Handler) create(ctx context.Context, req events.APIGatewayProxyRequest, log *slog.Logger) events.APIGatewayProxyResponse {
	in, bad := decode(req)
	if bad != nil {
		return *bad
	}
	now := h.Now().UTC()
	it := items.Item{ID: h.NewID(), Kind: "item", Name: in.Name, Description: in.Description, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := h.Store.Create(ctx, it); err != nil {
		return internal(log, "create", err)
	}
	return reply(http.StatusCreated, it)
}

func (h *Handler) get(ctx context.Context, id string, log *slog.Logger) events.APIGatewayProxyResponse {
	it, err := h.Store.Get(ctx, id)
	switch {
	case errors.Is(err, items.ErrNotFound):
		return problem(http.StatusNotFound, "no item "+id)
	case err != nil:
		return internal(log, "get", err)
	}
	return reply(http.StatusOK, it)
}

func (h *Handler) list(ctx context.Context, req events.APIGatewayProxyRequest, log *slog.Logger) events.APIGatewayProxyResponse {
	limit := DefaultLimit
	if s := req.QueryStringParameters["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return problem(http.StatusBadRequest, fmt.Sprintf("limit must be a whole number from 1 to %d", MaxLimit))
		}
		limit = n
	}
	list, next, err := h.Store.List(ctx, limit, req.QueryStringParameters["cursor"])
	switch {
	case errors.Is(err, items.ErrCursor):
		return problem(http.StatusBadRequest, "cursor is not one this API returned")
	case err != nil:
		return internal(log, "list", err)
	}
	return reply(http.StatusOK, map[string]any{"items": list, "nextCursor": next})
}

func (h *Handler) update(ctx context.Context, id string, req events.APIGatewayProxyRequest, log *slog.Logger) events.APIGatewayProxyResponse {
	in, bad := decode(req)
	if bad != nil {
		return *bad
	}
	if in.Version == nil || *in.Version < 1 {
		return problem(http.StatusBadRequest, "version is required: send the version you read, so concurrent updates are not lost")
	}
	current, err := h.Store.Get(ctx, id)
	switch {
	case errors.Is(err, items.ErrNotFound):
		return problem(http.StatusNotFound, "no item "+id)
	case err != nil:
		return internal(log, "update", err)
	}
	next := current
	next.Name, next.Description, next.UpdatedAt = in.Name, in.Description, h.Now().UTC()
	saved, err := h.Store.Replace(ctx, next, *in.Version)
	switch {
	case errors.Is(err, items.ErrNotFound):
		return problem(http.StatusNotFound, "no item "+id)
	case errors.Is(err, items.ErrConflict):
		return problem(http.StatusConflict, fmt.Sprintf("item %s has changed since version %d; read it again and retry", id, *in.Version))
	case err != nil:
		return internal(log, "update", err)
	}
	return reply(http.StatusOK, saved)
}

func (h *Handler) delete(ctx context.Context, id string, log *slog.Logger) events.APIGatewayProxyResponse {
	err := h.Store.Delete(ctx, id)
	switch {
	case errors.Is(err, items.ErrNotFound):
		return problem(http.StatusNotFound, "no item "+id)
	case err != nil:
		return internal(log, "delete", err)
	}
	return events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent}
}

func reply(status int, v any) events.APIGatewayProxyResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return problem(http.StatusInternalServerError, "internal error")
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Body: string(b)}
}

func problem(status int, msg string) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return events.APIGatewayProxyResponse{StatusCode: status, Body: string(b)}
}

// internal logs the cause and tells the client nothing about it.
func internal(log *slog.Logger, op string, err error) events.APIGatewayProxyResponse {
	log.Error("request failed", "op", op, "error", err.Error())
	return problem(http.StatusInternalServerError, "internal error; quote the X-Request-Id header when reporting it")
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
