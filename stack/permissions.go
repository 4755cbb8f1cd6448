package stack

// Target is one of the stack's resources that a function's role names.
type Target string

// The resources the functions' roles name.
const (
	TargetOwnLogs     Target = "the function's log group"
	TargetDeadLetters Target = "the dead-letter queue"
	TargetTable       Target = "the items table"
	TargetStream      Target = "the items table's stream"
	TargetUploads     Target = "the files bucket's objects"
	TargetEvents      Target = "the item-events topic"
	TargetEventsKey   Target = "the item-events topic's key"
)

// Access is one statement of a function's role: the IAM actions of the
// calls it exists for, on one resource.
type Access struct {
	Sid     string
	Actions []string
	On      Target
	// Calls names the calls that need the actions: the handler's SDK calls
	// (through the interfaces in lambda/) or what Lambda does with the
	// function's role.
	Calls string
	// ViaService, for a key, is the one service that may use it on the
	// role's behalf (kms:ViaService): the key serves that service's calls
	// only.
	ViaService string
}

// lambdaRuntime is what Lambda itself does with every function's role.
var lambdaRuntime = []Access{
	{"WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, TargetOwnLogs, "Lambda writes the function's logs", ""},
	{"DeadLetter", []string{"sqs:SendMessage"}, TargetDeadLetters, "Lambda sends failed asynchronous events (and the stream mapping its failed batches) to the queue", ""},
}

// publishItemEvents is announcing a change on the encrypted item-events
// topic: SNS encrypts with the topic's key on the publisher's behalf.
var publishItemEvents = []Access{
	{"PublishItemEvents", []string{"sns:Publish"}, TargetEvents, "awsio.Publisher.Publish (sns:Publish)", ""},
	{"UseItemEventsKey", []string{"kms:GenerateDataKey", "kms:Decrypt"}, TargetEventsKey, "SNS encrypts the message with the topic's key for the publisher", "sns"},
}

// FunctionAccess is every AWS call each function makes, as IAM actions.
// Each role allows exactly these, no more and no fewer (a test compares
// every role's policy with this table); a handler that starts making a
// new call needs its row here first.
var FunctionAccess = map[string][]Access{
	APIHandler.Key: append(append([]Access(nil), lambdaRuntime...),
		Access{"Items", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"}, TargetTable,
			"items.Store: Get (GetItem), Create and Replace (conditional PutItem), Delete (DeleteItem), List (Scan)", ""}),
	FileProcessor.Key: append(append(append([]Access(nil), lambdaRuntime...),
		Access{"RecordFiles", []string{"dynamodb:PutItem"}, TargetTable, "items.Store.Create (conditional PutItem)", ""},
		Access{"ReadUploads", []string{"s3:GetObject", "s3:GetObjectVersion"}, TargetUploads,
			"awsio.Objects.ContentType: HeadObject of the object version the event names", ""}),
		publishItemEvents...),
	StreamProcessor.Key: append(append(append([]Access(nil), lambdaRuntime...),
		Access{"ReadStream", []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, TargetStream,
			"Lambda's event source mapping reads the stream with the function's role", ""}),
		publishItemEvents...),
}
