package mlflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// jsonInt64 is an int64 that encodes as a JSON number and decodes from a
// number or a string, as protobuf JSON allows ("1700000000000").
type jsonInt64 int64

func (v *jsonInt64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*v = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		// 1.7e12 is a valid protobuf JSON int64 when it is integral.
		f, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63-1 {
			return fmt.Errorf("mlflow: %q is not an int64", b)
		}
		n = int64(f)
	}
	*v = jsonInt64(n)
	return nil
}

// jsonFloat is a float64 in protobuf JSON: finite values are JSON numbers,
// NaN and the infinities are the strings "NaN", "Infinity" and "-Infinity"
// (encoding/json cannot write them at all). Decoding accepts numbers and
// those strings, and numeric strings.
type jsonFloat float64

func (v jsonFloat) MarshalJSON() ([]byte, error) {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(f)
}

func (v *jsonFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*v = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*v = jsonFloat(math.NaN())
			return nil
		case "Infinity":
			*v = jsonFloat(math.Inf(1))
			return nil
		case "-Infinity":
			*v = jsonFloat(math.Inf(-1))
			return nil
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("mlflow: %q is not a number", b)
	}
	*v = jsonFloat(f)
	return nil
}
