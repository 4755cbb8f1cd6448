package stack

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// Monitoring holds the alarms; every one notifies the alert topic when it
// fires and when it clears.
type Monitoring struct {
	pulumi.ResourceState
	Alarms []*cloudwatch.MetricAlarm
	// names holds each alarm's physical name, in the order of Alarms, and
	// byLogical by the alarm's logical name.
	names     []string
	byLogical map[string]string
}

// NewMonitoring creates, per function, an error-rate alarm (metric math:
// errors / invocations × 100) and a throttle alarm, the same two on the
// version its live alias shifts to, plus API 5xx and latency alarms.
func NewMonitoring(ctx *pulumi.Context, name string, env Env, s *Stack, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	m := &Monitoring{byLogical: map[string]string{}}
	if err := ctx.RegisterComponentResource("tap:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	add := m.adder(ctx, env, pulumi.Array{s.Notifications.Topic.Arn})
	for _, spec := range Functions {
		if err := functionAlarms(add, env, spec, s.Functions[spec.Key].Function); err != nil {
			return nil, err
		}
	}
	if err := apiAlarms(add, env, s.API); err != nil {
		return nil, err
	}
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"alarmArns": m.AlarmArns()})
}

// addAlarm creates one alarm under its logical name.
type addAlarm func(logical string, args *cloudwatch.MetricAlarmArgs) error

// adder returns what creates the component's alarms: each is named for its
// logical name, notifies actions when it fires and when it clears, and
// takes missing data as not breaching.
func (m *Monitoring) adder(ctx *pulumi.Context, env Env, actions pulumi.Array) addAlarm {
	return func(logical string, args *cloudwatch.MetricAlarmArgs) error {
		physical := env.Names.Name(awsfacts.AlarmName, logical)
		args.Name = pulumi.String(physical)
		args.AlarmActions = actions
		args.OkActions = actions
		args.TreatMissingData = pulumi.String("notBreaching")
		alarm, err := cloudwatch.NewMetricAlarm(ctx, logical, args, env.children(m)...)
		if err == nil {
			m.Alarms = append(m.Alarms, alarm)
			m.names = append(m.names, physical)
			m.byLogical[logical] = physical
		}
		return err
	}
}

// functionAlarms are a function's error rate and throttles, and the same of
// the version being shifted to, seen through the live alias
// (ExecutedVersion) so that the old version's errors do not stop a shift.
func functionAlarms(add addAlarm, env Env, spec FunctionSpec, fn *lambda.Function) error {
	threshold := env.Config.ErrorRateThreshold
	all := lambdaMetrics{dims: pulumi.StringMap{"FunctionName": fn.Name}, period: 300}
	live := lambdaMetrics{dims: pulumi.StringMap{"FunctionName": fn.Name, "Resource": pulumi.Sprintf("%s:%s", fn.Name, LiveAlias), "ExecutedVersion": fn.Version}, period: 60}
	for _, a := range []struct {
		suffix string
		args   *cloudwatch.MetricAlarmArgs
	}{
		{"-error-rate", all.errorRate(pulumi.Sprintf("%s: error rate above %v%%", fn.Name, threshold), threshold, "error rate (%)")},
		{"-throttles", all.throttles(pulumi.Sprintf("%s is being throttled", fn.Name))},
		{"-live-errors", live.errorRate(pulumi.Sprintf("%s: the version the live alias shifts to fails more than %v%% of its calls", fn.Name, threshold), threshold, "error rate of the new version (%)")},
		{"-live-throttles", live.throttles(pulumi.Sprintf("%s: the version the live alias shifts to is throttled", fn.Name))},
	} {
		if err := add(spec.Component+a.suffix, a.args); err != nil {
			return err
		}
	}
	return nil
}

// lambdaMetrics is one view of a function's metrics: its dimensions and
// the period they are summed over.
type lambdaMetrics struct {
	dims   pulumi.StringMap
	period int
}

// errorRate fires when errors / invocations × 100 is above threshold.
func (l lambdaMetrics) errorRate(description pulumi.StringInput, threshold float64, label string) *cloudwatch.MetricAlarmArgs {
	return &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   description,
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(threshold),
		EvaluationPeriods:  pulumi.Int(1),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			l.query("errors", "Errors"),
			l.query("invocations", "Invocations"),
			cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.String("error_rate"),
				Expression: pulumi.String("IF(invocations > 0, 100 * errors / invocations, 0)"),
				Label:      pulumi.String(label),
				ReturnData: pulumi.Bool(true),
			},
		},
	}
}

func (l lambdaMetrics) query(id, metricName string) cloudwatch.MetricAlarmMetricQueryArgs {
	return cloudwatch.MetricAlarmMetricQueryArgs{
		Id: pulumi.String(id),
		Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
			Namespace: pulumi.String("AWS/Lambda"), MetricName: pulumi.String(metricName),
			Dimensions: l.dims, Period: pulumi.Int(l.period), Stat: pulumi.String("Sum"),
		},
	}
}

// throttles fires on any throttled call.
func (l lambdaMetrics) throttles(description pulumi.StringInput) *cloudwatch.MetricAlarmArgs {
	return &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   description,
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0),
		EvaluationPeriods:  pulumi.Int(1),
		Namespace:          pulumi.String("AWS/Lambda"),
		MetricName:         pulumi.String("Throttles"),
		Dimensions:         l.dims,
		Period:             pulumi.Int(l.period),
		Statistic:          pulumi.String("Sum"),
	}
}

// apiAlarms are the API stage's server errors and p99 latency.
func apiAlarms(add addAlarm, env Env, api *API) error {
	dims := pulumi.StringMap{"ApiName": pulumi.String(env.Names.Name(awsfacts.APIName, "api")), "Stage": api.Stage.StageName}
	if err := add("api-5xx", &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String("the items API returns server errors"),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0),
		EvaluationPeriods:  pulumi.Int(1),
		Namespace:          pulumi.String("AWS/ApiGateway"),
		MetricName:         pulumi.String("5XXError"),
		Dimensions:         dims,
		Period:             pulumi.Int(300),
		Statistic:          pulumi.String("Sum"),
	}); err != nil {
		return err
	}
	return add("api-latency", &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String("the items API's p99 latency is above 2.5 s"),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(2500),
		EvaluationPeriods:  pulumi.Int(3),
		Namespace:          pulumi.String("AWS/ApiGateway"),
		MetricName:         pulumi.String("Latency"),
		Dimensions:         dims,
		Period:             pulumi.Int(60),
		ExtendedStatistic:  pulumi.String("p99"),
	})
}

// ShiftAlarms names the alarms that stop a traffic shift of a function
// and send its traffic back: its new version's errors and throttles, and
// for the API's handler the API's server errors.
func (m *Monitoring) ShiftAlarms(spec FunctionSpec) []string {
	alarms := []string{m.byLogical[spec.Component+"-live-errors"], m.byLogical[spec.Component+"-live-throttles"]}
	if spec == APIHandler {
		alarms = append(alarms, m.byLogical["api-5xx"])
	}
	return alarms
}

// resources are the alarms, for what waits for them.
func (m *Monitoring) resources() []pulumi.Resource {
	out := make([]pulumi.Resource, len(m.Alarms))
	for i, a := range m.Alarms {
		out[i] = a
	}
	return out
}

// AlarmArns is every alarm's ARN, keyed by its physical name.
func (m *Monitoring) AlarmArns() pulumi.StringMap {
	out := pulumi.StringMap{}
	for i, a := range m.Alarms {
		out[m.names[i]] = a.Arn
	}
	return out
}
