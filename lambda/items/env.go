package items

import (
	"fmt"
	"regexp"
	"strings"
)

// Env is the functions' configuration, set by the stack.
type Env struct {
	TableName string
	// TopicARN is the item-events topic the processors announce changes
	// on (never the alarm topic: item data does not go to on-call).
	TopicARN string
}

var (
	tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	topicARN  = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$`)
)

// LoadEnv reads and validates the environment at cold start, so a
// misconfigured function fails its init with a clear message instead of
// failing every request.
func LoadEnv(getenv func(string) string, needTopic bool) (Env, error) {
	e := Env{TableName: getenv("TABLE_NAME"), TopicARN: getenv("EVENTS_TOPIC_ARN")}
	var problems []string
	if !tableName.MatchString(e.TableName) {
		problems = append(problems, fmt.Sprintf("TABLE_NAME %q is not a DynamoDB table name", e.TableName))
	}
	if needTopic && !topicARN.MatchString(e.TopicARN) {
		problems = append(problems, fmt.Sprintf("EVENTS_TOPIC_ARN %q is not an SNS topic ARN", e.TopicARN))
	}
	if len(problems) > 0 {
		return Env{}, fmt.Errorf("invalid function configuration: %s", strings.Join(problems, "; "))
	}
	return e, nil
}
