package sandbox

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const schedulerRole = "arn:aws:iam::123456789012:role/tap-dev-scheduler"

func scheduleIn(kv ...any) map[string]any {
	in := map[string]any{"name": "tap-dev-tick", "scheduleExpression": "rate(5 minutes)",
		"flexibleTimeWindow": map[string]any{"mode": "OFF"},
		"target":             map[string]any{"arn": "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:live", "roleArn": schedulerRole}}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if t, ok := strings.CutPrefix(k, "target."); ok {
			in["target"].(map[string]any)[t] = kv[i+1]
			continue
		}
		in[k] = kv[i+1]
	}
	return in
}

func TestCheckInputs_Schedule(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   map[string]any
		err  string
	}{
		{"every five minutes", scheduleIn(), ""},
		{"every minute, singular", scheduleIn("scheduleExpression", "rate(1 minute)"), ""},
		{"every hour, plural", scheduleIn("scheduleExpression", "rate(1 hours)"), ""},
		{"daily at 6 on weekdays, Paris time", scheduleIn("scheduleExpression", "cron(0 6 ? * MON-FRI *)", "scheduleExpressionTimezone", "Europe/Paris"), ""},
		{"on the 1st of the month", scheduleIn("scheduleExpression", "cron(15 10 1 * ? *)"), ""},
		{"once", scheduleIn("scheduleExpression", "at(2027-03-01T09:30:00)"), ""},
		{"a flexible window of a day", scheduleIn("flexibleTimeWindow", map[string]any{"mode": "FLEXIBLE", "maximumWindowInMinutes": 1440.0}), ""},
		{"retries and a standard DLQ", scheduleIn("target.retryPolicy", map[string]any{"maximumEventAgeInSeconds": 60.0, "maximumRetryAttempts": 185.0},
			"target.deadLetterConfig", map[string]any{"arn": sqsPrefix + "tick-dlq"}, "target.input", `{"source":"schedule"}`), ""},
		{"a name with a slash", scheduleIn("name", "tap/dev"), "ValidationException: 1 validation error detected: Value 'tap/dev' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$"},
		{"a name of 65 characters", scheduleIn("name", strings.Repeat("s", 65)), "at 'name' failed to satisfy constraint"},
		{"a group name with a space", scheduleIn("groupName", "tap dev"), "Value 'tap dev' at 'groupName' failed to satisfy constraint"},
		{"a rate of 0", scheduleIn("scheduleExpression", "rate(0 minutes)"), "creating EventBridge Scheduler Schedule (tap-dev-tick): ValidationException: Invalid Schedule Expression rate(0 minutes)."},
		{"a rate in seconds", scheduleIn("scheduleExpression", "rate(30 seconds)"), "Invalid Schedule Expression rate(30 seconds)."},
		{"a five-field cron", scheduleIn("scheduleExpression", "cron(0 6 * * ?)"), "Invalid Schedule Expression cron(0 6 * * ?)."},
		{"a cron with both days", scheduleIn("scheduleExpression", "cron(0 6 * * MON *)"), "Invalid Schedule Expression cron(0 6 * * MON *)."},
		{"a cron with neither day", scheduleIn("scheduleExpression", "cron(0 6 ? * ? *)"), "Invalid Schedule Expression cron(0 6 ? * ? *)."},
		{"an at without seconds", scheduleIn("scheduleExpression", "at(2027-03-01T09:30)"), "Invalid Schedule Expression at(2027-03-01T09:30)."},
		{"an at on the 30th of February", scheduleIn("scheduleExpression", "at(2027-02-30T09:30:00)"), "Invalid Schedule Expression at(2027-02-30T09:30:00)."},
		{"no expression", scheduleIn("scheduleExpression", ""), "Invalid Schedule Expression ."},
		{"a time zone that is not one", scheduleIn("scheduleExpressionTimezone", "Mars/Olympus"), "Invalid Schedule Expression Timezone Mars/Olympus."},
		{"no flexible time window", scheduleIn("flexibleTimeWindow", nil), "Value '' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]"},
		{"a flexible window without its size", scheduleIn("flexibleTimeWindow", map[string]any{"mode": "FLEXIBLE"}), "MaximumWindowInMinutes is required when Mode is FLEXIBLE."},
		{"a flexible window over a day", scheduleIn("flexibleTimeWindow", map[string]any{"mode": "FLEXIBLE", "maximumWindowInMinutes": 1441.0}), "Value '1441' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint"},
		{"a state of PAUSED", scheduleIn("state", "PAUSED"), "Value 'PAUSED' at 'state' failed to satisfy constraint"},
		{"a target without an ARN", scheduleIn("target.arn", ""), "Value null at 'target.arn' failed to satisfy constraint: Member must not be null"},
		{"a role that is not a role ARN", scheduleIn("target.roleArn", "tap-dev-scheduler"), "Value 'tap-dev-scheduler' at 'target.roleArn' failed to satisfy constraint"},
		{"186 retries", scheduleIn("target.retryPolicy", map[string]any{"maximumRetryAttempts": 186.0}), "Value '186' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint"},
		{"events kept 59 s", scheduleIn("target.retryPolicy", map[string]any{"maximumEventAgeInSeconds": 59.0}), "Value '59' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint"},
		{"a FIFO DLQ", scheduleIn("target.deadLetterConfig", map[string]any{"arn": sqsPrefix + "tick-dlq.fifo"}), "at 'target.deadLetterConfig.arn' failed to satisfy constraint"},
		{"a Lambda target's input that is not JSON", scheduleIn("target.input", "tick"), "the input of a Lambda target must be well-formed JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkInputs(tSchedule, tt.in)
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}

func TestCheckSave_ScheduleGroupAndRole(t *testing.T) {
	role := func(trust string) Resource {
		return Resource{ID: "tap-dev-scheduler", Type: tRole, Inputs: map[string]any{"assumeRolePolicy": trust}, Outputs: map[string]any{"arn": schedulerRole}}
	}
	scheduler := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`
	lambda := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	group := Resource{ID: "tap-dev", Type: tScheduleGroup, Inputs: map[string]any{"name": "tap-dev"}}
	for _, tt := range []struct {
		name string
		rs   []Resource
		in   map[string]any
		err  string
	}{
		{"the default group", []Resource{role(scheduler)}, scheduleIn(), ""},
		{"the stack's group", []Resource{role(scheduler), group}, scheduleIn("groupName", "tap-dev"), ""},
		{"a group that does not exist", []Resource{role(scheduler)}, scheduleIn("groupName", "tap-dev"), "creating EventBridge Scheduler Schedule (tap-dev-tick): ResourceNotFoundException: Schedule group tap-dev does not exist."},
		{"a role that does not exist", nil, scheduleIn(), "ValidationException: The execution role you provide must allow AWS EventBridge Scheduler to assume the role."},
		{"a role only Lambda may assume", []Resource{role(lambda)}, scheduleIn(), "ValidationException: The execution role you provide must allow AWS EventBridge Scheduler to assume the role."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSave(newState(tt.rs...), "eu-west-1", tSchedule, "default/tap-dev-tick", tt.in, map[string]any{})
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}

func TestAlreadyExists_ScheduleIsUniqueInItsGroup(t *testing.T) {
	st := newState(Resource{ID: "default/tap-dev-tick", Type: tSchedule}, Resource{ID: "tap-dev", Type: tScheduleGroup})
	assert.ErrorContains(t, alreadyExists(st, tSchedule, "eu-west-1", "default/tap-dev-tick", nil), "creating EventBridge Scheduler Schedule (tap-dev-tick): ConflictException: Schedule tap-dev-tick already exists.")
	assert.NoError(t, alreadyExists(st, tSchedule, "eu-west-1", "tap-dev/tap-dev-tick", nil), "the same name in another group")
	assert.ErrorContains(t, alreadyExists(st, tScheduleGroup, "eu-west-1", "tap-dev", nil), "ConflictException: Schedule group tap-dev already exists.")
	assert.ErrorContains(t, checkInputs(tScheduleGroup, map[string]any{"name": "tap dev"}), "Value 'tap dev' at 'name' failed to satisfy constraint")
}
