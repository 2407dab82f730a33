package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// proxySummary is the part of cmd/faultproxy's JSON the tables use.
type proxySummary struct {
	OutageStartedAt float64 `json:"outage_started_at_s"`
	OutageEndedAt   float64 `json:"outage_ended_at_s"`
	RecoveryS       float64 `json:"recovery_s"`
	LogBatchOK      int64   `json:"log_batch_ok"`
	LogBatchFailed  int64   `json:"log_batch_non_2xx"`
	FirstUnix       float64 `json:"first_unix"`
	Rate            float64 `json:"rate_limit"`
	Limited         int64   `json:"limited_429"`
	ArrivalsPerS    []int64 `json:"arrivals_per_s"`
	OKPerSecond     []int64 `json:"ok_per_s"`
	LimitedPerSec   []int64 `json:"limited_per_s"`
	Connections     int     `json:"connections"`
}

// proxy is a running cmd/faultproxy.
type proxy struct {
	cmd *exec.Cmd
	out *bufio.Reader
	URL string
}

// startProxy starts cmd/faultproxy with args and waits for its URL.
func startProxy(bin string, args ...string) (*proxy, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proxy{cmd: cmd, out: bufio.NewReader(out)}
	line, err := p.out.ReadString('\n')
	if !strings.HasPrefix(line, "PROXY_URL=") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("faultproxy printed %q (%v), not PROXY_URL=", line, err)
	}
	p.URL = strings.TrimSpace(strings.TrimPrefix(line, "PROXY_URL="))
	return p, nil
}

// stop ends the proxy (it waits for an outage under way to end) and
// returns its summary.
func (p *proxy) stop() (proxySummary, error) {
	var s proxySummary
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(p.out)
	werr := p.cmd.Wait()
	for _, line := range strings.Split(string(rest), "\n") {
		if strings.HasPrefix(line, "{") {
			return s, json.Unmarshal([]byte(line), &s)
		}
	}
	return s, fmt.Errorf("faultproxy printed no summary (%v)", werr)
}
