package mlflow

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/mlerr/mlerr"
)

// The runs/log-batch body is written by hand: it is the one request sent
// for every batch, and encoding/json through per-metric MarshalJSON methods
// costs several allocations per point.

// encodeLogBatch returns the JSON body of a runs/log-batch request.
func encodeLogBatch(runID string, metrics []Metric, params []Param, tags []RunTag) []byte {
	b := make([]byte, 0, 64+len(metrics)*(80+len(firstKey(metrics)))+len(params)*48+len(tags)*48)
	b = append(b, `{"run_id":`...)
	b = appendString(b, runID)
	if len(metrics) > 0 {
		b = append(b, `,"metrics":[`...)
		var lastKey string
		var lastQuoted []byte
		for i, m := range metrics {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			// Points of one metric come in runs: quote each key once.
			if lastQuoted == nil || m.Key != lastKey {
				start := len(b)
				b = appendString(b, m.Key)
				lastKey, lastQuoted = m.Key, append(lastQuoted[:0], b[start:]...)
			} else {
				b = append(b, lastQuoted...)
			}
			b = appendMetricFields(b, m)
		}
		b = append(b, ']')
	}
	b = appendPairs(b, `,"params":[`, len(params), func(i int) (string, string) { return params[i].Key, params[i].Value })
	b = appendPairs(b, `,"tags":[`, len(tags), func(i int) (string, string) { return tags[i].Key, tags[i].Value })
	return append(b, '}')
}

func appendPairs(b []byte, open string, n int, kv func(int) (string, string)) []byte {
	if n == 0 {
		return b
	}
	b = append(b, open...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		k, v := kv(i)
		b = append(b, `{"key":`...)
		b = appendString(b, k)
		b = append(b, `,"value":`...)
		b = appendString(b, v)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendMetric appends a metric as a JSON object.
func appendMetric(b []byte, m Metric) []byte {
	b = append(b, `{"key":`...)
	b = appendString(b, m.Key)
	return appendMetricFields(b, m)
}

// appendMetricFields appends the fields after the key and closes the object.
func appendMetricFields(b []byte, m Metric) []byte {
	b = append(b, `,"value":`...)
	b = appendFloat(b, m.Value)
	return appendTail(b, m.Timestamp, m.Step)
}

// appendTail appends a metric's timestamp and step and closes the object.
func appendTail(b []byte, ts, step int64) []byte {
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"step":`...)
	b = strconv.AppendInt(b, step, 10)
	return append(b, '}')
}

// encodeItems returns the JSON body of a runs/log-batch request carrying
// the metrics, params and tags of items at the indexes mIdx, pIdx and tIdx:
// the same body as encodeLogBatch of those items, written from the items
// themselves. The points of one LogMetrics call share a time and a step, so
// the tail of a point like the one before it is copied, not formatted again.
func encodeItems(runID string, items []mlerr.Item, mIdx, pIdx, tIdx []int) []byte {
	keyLen := 0
	if len(mIdx) > 0 {
		keyLen = len(items[mIdx[0]].Key)
	}
	b := make([]byte, 0, 64+len(mIdx)*(80+keyLen)+len(pIdx)*48+len(tIdx)*48)
	b = append(b, `{"run_id":`...)
	b = appendString(b, runID)
	if len(mIdx) > 0 {
		b = append(b, `,"metrics":[`...)
		b = appendItemMetrics(b, items, mIdx)
		b = append(b, ']')
	}
	b = appendPairs(b, `,"params":[`, len(pIdx), func(i int) (string, string) { return items[pIdx[i]].Key, items[pIdx[i]].Text })
	b = appendPairs(b, `,"tags":[`, len(tIdx), func(i int) (string, string) { return items[tIdx[i]].Key, items[tIdx[i]].Text })
	return append(b, '}')
}

// appendItemMetrics appends the metric objects of items at idx, comma
// separated.
func appendItemMetrics(b []byte, items []mlerr.Item, idx []int) []byte {
	var (
		tail     [64]byte // the previous point's `,"timestamp":T,"step":S}`
		tailLen  int
		lastTime time.Time
		lastStep int64
	)
	for n, i := range idx {
		it := &items[i]
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendString(b, it.Key)
		b = append(b, `,"value":`...)
		b = appendFloat(b, it.Value)
		if tailLen == 0 || it.Step != lastStep || !it.Time.Equal(lastTime) {
			t := appendTail(tail[:0], millis(it.Time), it.Step)
			tailLen, lastTime, lastStep = copy(tail[:], t), it.Time, it.Step
		}
		b = append(b, tail[:tailLen]...)
	}
	return b
}

// appendFloat appends a double as protobuf JSON does: finite values as
// numbers, the others as the strings "NaN", "Infinity", "-Infinity".
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64) // "1e-07", "1e+21": valid JSON numbers
}

// appendString appends s as a JSON string. Printable ASCII without quotes or
// backslashes, what keys nearly always are, is copied; anything else goes
// through encoding/json (which also replaces invalid UTF-8).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func firstKey(ms []Metric) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0].Key
}
