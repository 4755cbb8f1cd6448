package stack

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
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
// errors / invocations × 100) and a throttle alarm, plus API 5xx and
// latency alarms.
func NewMonitoring(ctx *pulumi.Context, name string, env Env, s *Stack, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	m := &Monitoring{byLogical: map[string]string{}}
	if err := ctx.RegisterComponentResource("tap:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	actions := pulumi.Array{s.Notifications.Topic.Arn}
	add := func(logical string, args *cloudwatch.MetricAlarmArgs) error {
		args.Name = pulumi.String(env.Names.Name(awsfacts.AlarmName, logical))
		args.AlarmActions = actions
		args.OkActions = actions
		args.TreatMissingData = pulumi.String("notBreaching")
		alarm, err := cloudwatch.NewMetricAlarm(ctx, logical, args, env.children(m)...)
		if err == nil {
			m.Alarms = append(m.Alarms, alarm)
			m.names = append(m.names, env.Names.Name(awsfacts.AlarmName, logical))
			m.byLogical[logical] = env.Names.Name(awsfacts.AlarmName, logical)
		}
		return err
	}
	for _, spec := range Functions {
		fn := s.Functions[spec.Key].Function
		dims := pulumi.StringMap{"FunctionName": fn.Name}
		metric := func(id, metricName string) cloudwatch.MetricAlarmMetricQueryArgs {
			return cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String(id),
				Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String("AWS/Lambda"), MetricName: pulumi.String(metricName),
					Dimensions: dims, Period: pulumi.Int(300), Stat: pulumi.String("Sum"),
				},
			}
		}
		err := add(spec.Component+"-error-rate", &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.Sprintf("%s: error rate above %v%%", fn.Name, env.Config.ErrorRateThreshold),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(env.Config.ErrorRateThreshold),
			EvaluationPeriods:  pulumi.Int(1),
			MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
				metric("errors", "Errors"),
				metric("invocations", "Invocations"),
				cloudwatch.MetricAlarmMetricQueryArgs{
					Id:         pulumi.String("error_rate"),
					Expression: pulumi.String("IF(invocations > 0, 100 * errors / invocations, 0)"),
					Label:      pulumi.String("error rate (%)"),
					ReturnData: pulumi.Bool(true),
				},
			},
		})
		if err != nil {
			return nil, err
		}
		err = add(spec.Component+"-throttles", &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.Sprintf("%s is being throttled", fn.Name),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(0),
			EvaluationPeriods:  pulumi.Int(1),
			Namespace:          pulumi.String("AWS/Lambda"),
			MetricName:         pulumi.String("Throttles"),
			Dimensions:         dims,
			Period:             pulumi.Int(300),
			Statistic:          pulumi.String("Sum"),
		})
		if err != nil {
			return nil, err
		}
		// What a traffic shift watches: the errors and throttles of the
		// version being shifted to, seen through the live alias
		// (ExecutedVersion), so the old version's errors do not stop it.
		live := s.Functions[spec.Key]
		liveDims := pulumi.StringMap{"FunctionName": fn.Name, "Resource": pulumi.Sprintf("%s:%s", fn.Name, LiveAlias), "ExecutedVersion": live.Function.Version}
		liveMetric := func(id, metricName string) cloudwatch.MetricAlarmMetricQueryArgs {
			return cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String(id),
				Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String("AWS/Lambda"), MetricName: pulumi.String(metricName),
					Dimensions: liveDims, Period: pulumi.Int(60), Stat: pulumi.String("Sum"),
				},
			}
		}
		err = add(spec.Component+"-live-errors", &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.Sprintf("%s: the version the live alias shifts to fails more than %v%% of its calls", fn.Name, env.Config.ErrorRateThreshold),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(env.Config.ErrorRateThreshold),
			EvaluationPeriods:  pulumi.Int(1),
			MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
				liveMetric("errors", "Errors"),
				liveMetric("invocations", "Invocations"),
				cloudwatch.MetricAlarmMetricQueryArgs{
					Id:         pulumi.String("error_rate"),
					Expression: pulumi.String("IF(invocations > 0, 100 * errors / invocations, 0)"),
					Label:      pulumi.String("error rate of the new version (%)"),
					ReturnData: pulumi.Bool(true),
				},
			},
		})
		if err != nil {
			return nil, err
		}
		err = add(spec.Component+"-live-throttles", &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.Sprintf("%s: the version the live alias shifts to is throttled", fn.Name),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(0),
			EvaluationPeriods:  pulumi.Int(1),
			Namespace:          pulumi.String("AWS/Lambda"),
			MetricName:         pulumi.String("Throttles"),
			Dimensions:         liveDims,
			Period:             pulumi.Int(60),
			Statistic:          pulumi.String("Sum"),
		})
		if err != nil {
			return nil, err
		}
	}
	apiDims := pulumi.StringMap{"ApiName": pulumi.String(env.Names.Name(awsfacts.APIName, "api")), "Stage": s.API.Stage.StageName}
	if err := add("api-5xx", &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String("the items API returns server errors"),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0),
		EvaluationPeriods:  pulumi.Int(1),
		Namespace:          pulumi.String("AWS/ApiGateway"),
		MetricName:         pulumi.String("5XXError"),
		Dimensions:         apiDims,
		Period:             pulumi.Int(300),
		Statistic:          pulumi.String("Sum"),
	}); err != nil {
		return nil, err
	}
	if err := add("api-latency", &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String("the items API's p99 latency is above 2.5 s"),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(2500),
		EvaluationPeriods:  pulumi.Int(3),
		Namespace:          pulumi.String("AWS/ApiGateway"),
		MetricName:         pulumi.String("Latency"),
		Dimensions:         apiDims,
		Period:             pulumi.Int(60),
		ExtendedStatistic:  pulumi.String("p99"),
	}); err != nil {
		return nil, err
	}
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"alarmArns": m.AlarmArns()})
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
