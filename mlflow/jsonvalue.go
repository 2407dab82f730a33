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
	b, isNull, err := protoScalar(b)
	if err != nil || isNull {
		*v = 0
		return err
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

// protoScalar returns the text of a protobuf JSON scalar: a number as it
// is, a string unquoted; isNull reports a JSON null.
func protoScalar(b []byte) (text []byte, isNull bool, err error) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil, true, nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, false, err
		}
		return []byte(s), false, nil
	}
	return b, false, nil
}

// jsonFloat is a float64 read from protobuf JSON: a number, one of the
// strings "NaN", "Infinity" and "-Infinity", or a numeric string. (Writing
// is appendFloat's job.)
type jsonFloat float64

func (v *jsonFloat) UnmarshalJSON(b []byte) error {
	b, isNull, err := protoScalar(b)
	if err != nil || isNull {
		*v = 0
		return err
	}
	switch string(b) {
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
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("mlflow: %q is not a number", b)
	}
	*v = jsonFloat(f)
	return nil
}
