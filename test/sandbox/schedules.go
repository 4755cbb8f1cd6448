package sandbox

// What EventBridge Scheduler checks when a schedule or a schedule group
// is created or updated, with Scheduler's error texts.
// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
// https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	// Time zone names are checked against the IANA database built in, so
	// the answer does not depend on the machine's /usr/share/zoneinfo.
	_ "time/tzdata"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	tSchedule      = "aws:scheduler/schedule:Schedule"
	tScheduleGroup = "aws:scheduler/scheduleGroup:ScheduleGroup"
)

var (
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html (Name, GroupName):
	// 1 to 64 characters of ^[0-9a-zA-Z-_.]+$
	scheduleName = regexp.MustCompile(`^[0-9a-zA-Z_.-]{1,64}$`)
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Target.html (RoleArn)
	schedulerRoleArn = regexp.MustCompile(`^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$`)
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_DeadLetterConfig.html (Arn):
	// a standard queue (the pattern has no room for .fifo)
	schedulerDLQArn = regexp.MustCompile(`^arn:aws(-[a-z]+)?:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+$`)
	// rate(value unit): "Value: A positive number. Unit: ... minutes | hours
	// | days" (schedule-types.html#rate-based). Unlike EventBridge rules,
	// Scheduler documents no singular-for-1 rule, and the singular units
	// are what AWS's own CDK writes for 1 (rate(1 minute)): both accepted.
	rateExpr = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`)
	// at(yyyy-mm-ddThh:mm:ss) (schedule-types.html#one-time)
	atExpr   = regexp.MustCompile(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
	cronExpr = regexp.MustCompile(`^cron\((.*)\)$`)
	// One cron field: digits, names, and , - * ? / L W #.
	cronField = regexp.MustCompile(`^[0-9A-Za-z,*?/#-]+$`)
)

func validationError(doing, format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "%s: ValidationException: %s", doing, fmt.Sprintf(format, args...))
}

// validScheduleExpression is Scheduler's grammar: rate, cron of six
// fields with a ? in day-of-month or day-of-week ("You can't specify the
// Day-of-month and Day-of-week fields in the same cron expression. If you
// specify a value or a * (asterisk) in one of the fields, you must use a ?
// (question mark) in the other", schedule-types.html#cron-based), or at.
func validScheduleExpression(expr string) bool {
	if len(expr) < 1 || len(expr) > 256 {
		return false
	}
	if rateExpr.MatchString(expr) {
		return true
	}
	if m := atExpr.FindStringSubmatch(expr); m != nil {
		_, err := time.Parse("2006-01-02T15:04:05", m[1])
		return err == nil
	}
	m := cronExpr.FindStringSubmatch(expr)
	if m == nil {
		return false
	}
	fields := strings.Fields(m[1])
	if len(fields) != 6 {
		return false
	}
	for _, f := range fields {
		if !cronField.MatchString(f) {
			return false
		}
	}
	return (fields[2] == "?") != (fields[4] == "?")
}

// checkScheduleGroup is CreateScheduleGroup's name rule.
// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateScheduleGroup.html
func checkScheduleGroup(in map[string]any) error {
	name, _ := in["name"].(string)
	if name != "" && !scheduleName.MatchString(name) {
		return validationError("creating EventBridge Scheduler Schedule Group ("+name+")", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$", name)
	}
	return nil
}

// checkScheduleInputs is what CreateSchedule refuses in its inputs alone.
func checkScheduleInputs(in map[string]any) error {
	name, _ := in["name"].(string)
	group, _ := in["groupName"].(string)
	doing := "creating EventBridge Scheduler Schedule (" + name + ")"
	for field, v := range map[string]string{"name": name, "groupName": group} {
		if v != "" && !scheduleName.MatchString(v) {
			return validationError(doing, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$", v, field)
		}
	}
	// The text was seen from Scheduler:
	// https://github.com/localstack/localstack/issues/9284
	if expr, _ := in["scheduleExpression"].(string); !validScheduleExpression(expr) {
		return validationError(doing, "Invalid Schedule Expression %s.", expr)
	}
	if tz, _ := in["scheduleExpressionTimezone"].(string); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || len(tz) > 50 {
			return validationError(doing, "Invalid Schedule Expression Timezone %s.", tz)
		}
	}
	// FlexibleTimeWindow is required; Mode OFF or FLEXIBLE, and a FLEXIBLE
	// window's MaximumWindowInMinutes is 1 to 1,440.
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_FlexibleTimeWindow.html
	// (Scheduler's texts for these were not seen; the forms are its model
	// validation's.)
	mode, _ := get(in, "flexibleTimeWindow", "mode").(string)
	window, windowSet := number(get(in, "flexibleTimeWindow", "maximumWindowInMinutes"))
	switch {
	case mode != "OFF" && mode != "FLEXIBLE":
		return validationError(doing, "1 validation error detected: Value '%s' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]", mode)
	case windowSet && (window < 1 || window > 1440):
		return validationError(doing, "1 validation error detected: Value '%d' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value between 1 and 1440", window)
	case mode == "FLEXIBLE" && !windowSet:
		return validationError(doing, "MaximumWindowInMinutes is required when Mode is FLEXIBLE.")
	}
	if s, _ := in["state"].(string); s != "" && s != "ENABLED" && s != "DISABLED" {
		return validationError(doing, "1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", s)
	}
	arn, _ := get(in, "target", "arn").(string)
	if arn == "" {
		return validationError(doing, "1 validation error detected: Value null at 'target.arn' failed to satisfy constraint: Member must not be null")
	}
	if role, _ := get(in, "target", "roleArn").(string); !schedulerRoleArn.MatchString(role) {
		return validationError(doing, "1 validation error detected: Value '%s' at 'target.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$", role)
	}
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html
	for _, r := range []struct {
		key, field string
		min, max   int
	}{
		{"maximumEventAgeInSeconds", "target.retryPolicy.maximumEventAgeInSeconds", 60, 86400},
		{"maximumRetryAttempts", "target.retryPolicy.maximumRetryAttempts", 0, 185},
	} {
		if n, ok := number(get(in, "target", "retryPolicy", r.key)); ok && (n < r.min || n > r.max) {
			return validationError(doing, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between %d and %d", n, r.field, r.min, r.max)
		}
	}
	if dlq, _ := get(in, "target", "deadLetterConfig", "arn").(string); dlq != "" && !schedulerDLQArn.MatchString(dlq) {
		return validationError(doing, "1 validation error detected: Value '%s' at 'target.deadLetterConfig.arn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$", dlq)
	}
	// "If you are configuring a templated Lambda, AWS Step Functions, or
	// Amazon EventBridge target, the input must be a well-formed JSON."
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Target.html (Input)
	// (Scheduler's text was not seen.)
	if input, set := get(in, "target", "input").(string); set && strings.HasPrefix(arn, "arn:aws:lambda:") && !isJSON(input) {
		return validationError(doing, "Invalid target input: the input of a Lambda target must be well-formed JSON.")
	}
	return nil
}

// checkSchedule is what CreateSchedule checks against the account: the
// group exists, and Scheduler may assume the role ("The execution role
// you provide must allow AWS EventBridge Scheduler to assume the role.",
// seen in https://github.com/aws/aws-sdk-js-v3/issues/6494; the trust:
// https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
// The role's permission to invoke the target is not checked at create.
func checkSchedule(st *State, region string, in map[string]any) error {
	name, _ := in["name"].(string)
	doing := "creating EventBridge Scheduler Schedule (" + name + ")"
	group := scheduleGroupOf(in)
	if group != "default" {
		found := false
		for _, r := range st.ByType(tScheduleGroup) {
			found = found || (r.Region == region && r.ID == group)
		}
		if !found {
			// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html (ResourceNotFoundException)
			return status.Errorf(codes.NotFound, "%s: ResourceNotFoundException: Schedule group %s does not exist.", doing, group)
		}
	}
	roleArn, _ := get(in, "target", "roleArn").(string)
	if role, ok := findRole(st, roleArn); !ok || !trusts(role, "scheduler.amazonaws.com") {
		return validationError(doing, "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.")
	}
	return nil
}

// scheduleGroupOf is a schedule's group: "default" unless named.
func scheduleGroupOf(in map[string]any) string {
	if g, _ := in["groupName"].(string); g != "" {
		return g
	}
	return "default"
}

func isJSON(s string) bool {
	var v any
	return json.Unmarshal([]byte(s), &v) == nil
}
