package jsapi

import "strings"

// Error is the API's error envelope: an HTTP-like code, nats-server's err_code and a
// description. It is an error so that the layers below can return it as one.
type Error struct {
	Code        int     `json:"code"`
	ErrCode     ErrCode `json:"err_code,omitempty"`
	Description string  `json:"description,omitempty"`
}

func (e *Error) Error() string { return e.Description }

// Is matches another *Error with the same err_code, so errors.Is(err, jsapi.E(code)) works
// whatever the description says.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.ErrCode == e.ErrCode
}

// ErrCode is nats-server's numeric error code (10xxx).
type ErrCode uint16

// The error codes Petrel answers with (nats-server's numbers and texts).
const (
	ErrClusterNotAvailable          ErrCode = 10008
	ErrBadRequest                   ErrCode = 10003
	ErrConsumerCreate               ErrCode = 10012
	ErrConsumerNameExists           ErrCode = 10013
	ErrConsumerNotFound             ErrCode = 10014
	ErrInsufficientResources        ErrCode = 10023
	ErrInvalidJSON                  ErrCode = 10025
	ErrMaxConsumers                 ErrCode = 10026
	ErrMaxStreams                   ErrCode = 10027
	ErrMemoryResources              ErrCode = 10028
	ErrNoMessageFound               ErrCode = 10037
	ErrNotEmptyRequest              ErrCode = 10038
	ErrNotEnabledForAccount         ErrCode = 10039
	ErrStorageResources             ErrCode = 10047
	ErrStreamCreate                 ErrCode = 10049
	ErrStreamInvalidConfig          ErrCode = 10052
	ErrStreamMessageTooBig          ErrCode = 10054
	ErrStreamMismatch               ErrCode = 10056
	ErrStreamNameExists             ErrCode = 10058
	ErrStreamNotFound               ErrCode = 10059
	ErrStreamNotMatch               ErrCode = 10060
	ErrStreamSnapshot               ErrCode = 10064
	ErrStreamSubjectOverlap         ErrCode = 10065
	ErrStreamUpdate                 ErrCode = 10069
	ErrStreamWrongLastMsgID         ErrCode = 10070
	ErrStreamWrongLastSequence      ErrCode = 10071
	ErrReplicasNotSupported         ErrCode = 10074
	ErrNotEnabled                   ErrCode = 10076
	ErrStreamStoreFailed            ErrCode = 10077
	ErrStreamHeaderTooBig           ErrCode = 10097
	ErrStreamDelete                 ErrCode = 10050
	ErrStreamMsgDeleteFailed        ErrCode = 10057
	ErrStreamRestore                ErrCode = 10062
	ErrStreamPurgeFailed            ErrCode = 10110
	ErrStreamSealed                 ErrCode = 10109
	ErrStreamRollupFailed           ErrCode = 10111
	ErrStreamExpectedSubjectInvalid ErrCode = 10193
	ErrConsumerFilterMismatch       ErrCode = 10131
	ErrConsumerBothFilters          ErrCode = 10136
	ErrConsumerOverlapFilters       ErrCode = 10138
	ErrConsumerEmptyFilter          ErrCode = 10139
	ErrConsumerAlreadyExists        ErrCode = 10148
	ErrConsumerDoesNotExist         ErrCode = 10149
	ErrMessageTTLInvalid            ErrCode = 10165
	ErrMessageTTLDisabled           ErrCode = 10166
	ErrRequiredAPILevel             ErrCode = 10185
)

type errorDef struct {
	code int
	text string // {name} placeholders are filled by NewError's arguments, in order
}

// errorDefs holds each code's HTTP-like code and nats-server's text.
var errorDefs = map[ErrCode]errorDef{
	ErrClusterNotAvailable:          {503, "JetStream system temporarily unavailable"},
	ErrBadRequest:                   {400, "bad request"},
	ErrConsumerCreate:               {500, "{err}"},
	ErrConsumerNameExists:           {400, "consumer name already in use"},
	ErrConsumerNotFound:             {404, "consumer not found"},
	ErrInsufficientResources:        {503, "insufficient resources"},
	ErrInvalidJSON:                  {400, "invalid JSON: {err}"},
	ErrMaxConsumers:                 {400, "maximum consumers limit reached"},
	ErrMaxStreams:                   {400, "maximum number of streams reached"},
	ErrMemoryResources:              {500, "insufficient memory resources available"},
	ErrNoMessageFound:               {404, "no message found"},
	ErrNotEmptyRequest:              {400, "expected an empty request payload"},
	ErrNotEnabledForAccount:         {503, "JetStream not enabled for account"},
	ErrStorageResources:             {500, "insufficient storage resources available"},
	ErrStreamCreate:                 {500, "{err}"},
	ErrStreamInvalidConfig:          {500, "{err}"},
	ErrStreamMessageTooBig:          {400, "message size exceeds maximum allowed"},
	ErrStreamMismatch:               {400, "stream name in subject does not match request"},
	ErrStreamNameExists:             {400, "stream name already in use with a different configuration"},
	ErrStreamNotFound:               {404, "stream not found"},
	ErrStreamNotMatch:               {400, "expected stream does not match"},
	ErrStreamSnapshot:               {500, "snapshot failed: {err}"},
	ErrStreamSubjectOverlap:         {400, "subjects overlap with an existing stream"},
	ErrStreamUpdate:                 {500, "{err}"},
	ErrStreamWrongLastMsgID:         {400, "wrong last msg ID: {id}"},
	ErrStreamWrongLastSequence:      {400, "wrong last sequence: {seq}"},
	ErrReplicasNotSupported:         {500, "replicas > 1 not supported in non-clustered mode"},
	ErrNotEnabled:                   {503, "JetStream not enabled"},
	ErrStreamStoreFailed:            {503, "{err}"},
	ErrStreamHeaderTooBig:           {400, "header size exceeds maximum allowed of 64k"},
	ErrStreamDelete:                 {500, "{err}"},
	ErrStreamMsgDeleteFailed:        {500, "{err}"},
	ErrStreamRestore:                {500, "restore failed: {err}"},
	ErrStreamPurgeFailed:            {500, "{err}"},
	ErrStreamSealed:                 {400, "invalid operation on sealed stream"},
	ErrStreamRollupFailed:           {500, "{err}"},
	ErrStreamExpectedSubjectInvalid: {400, "missing sequence for expected last sequence per subject"},
	ErrConsumerFilterMismatch:       {400, "Consumer create request did not match filtered subject from create subject"},
	ErrConsumerBothFilters:          {400, "consumer cannot have both FilterSubject and FilterSubjects specified"},
	ErrConsumerOverlapFilters:       {400, "consumer subject filters cannot overlap"},
	ErrConsumerEmptyFilter:          {400, "consumer filter in FilterSubjects cannot be empty"},
	ErrConsumerAlreadyExists:        {400, "consumer already exists"},
	ErrConsumerDoesNotExist:         {400, "consumer does not exist"},
	ErrMessageTTLInvalid:            {400, "invalid per-message TTL"},
	ErrMessageTTLDisabled:           {400, "per-message TTL is disabled"},
	ErrRequiredAPILevel:             {412, "JetStream minimum api level required"},
}

// NewError builds the error for code; args fill the text's {placeholders} in order.
func NewError(code ErrCode, args ...string) *Error {
	def, ok := errorDefs[code]
	if !ok {
		panic("jsapi: unknown error code " + itoa(uint64(code)))
	}
	text := def.text
	for _, a := range args {
		open := strings.IndexByte(text, '{')
		end := strings.IndexByte(text, '}')
		if open < 0 || end < open {
			break
		}
		text = text[:open] + a + text[end+1:]
	}
	return &Error{Code: def.code, ErrCode: code, Description: text}
}

// E is NewError for a code whose text takes no argument; it is what errors.Is compares
// against.
func E(code ErrCode) *Error { return NewError(code) }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
