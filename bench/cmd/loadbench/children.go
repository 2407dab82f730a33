package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// childOut is what a client printed (mlflowload, client_sync.py or
// client_async.py: the fields they share).
type childOut struct {
	RunID     string  `json:"run_id"`
	Logged    int     `json:"logged"`
	LoopS     float64 `json:"loop_s"`
	AckedS    float64 `json:"acked_s"`
	CPUS      float64 `json:"cpu_logging_s"`
	StartUnix float64 `json:"start_unix"`
	AckedUnix float64 `json:"acked_unix"`
	CallP50   float64 `json:"call_p50_us"`
	CallP99   float64 `json:"call_p99_us"`
	CallMax   float64 `json:"call_max_us"`
	Retries   int64   `json:"retries"`
	Outages   int64   `json:"outages"`
	Dropped   int64   `json:"dropped"`
	Status    string  `json:"status"`
	WaitErr   string  `json:"wait_err"`
	Events    []struct {
		Callback string `json:"callback"`
	} `json:"events"`
	Lost       int `json:"lost_in_exceptions"`
	FailedOps  int `json:"failed_operations"`
	Exceptions []struct {
		Type string `json:"type"`
	} `json:"exceptions"`
}

// child is one client process and what it did.
type child struct {
	Name     string   `json:"name"`
	Args     []string `json:"args"`
	Exit     int      `json:"exit"`
	ProcCPU  float64  `json:"process_cpu_s"` // the whole process (wait4)
	PeakRSS  float64  `json:"peak_rss_mib"`
	Out      childOut `json:"out"`
	Err      string   `json:"error,omitempty"`
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stdout   *bufio.Reader
	errFile  *os.File
	startErr error
}

// spawn starts a client that prints READY, waits for a line on stdin, logs
// and prints its JSON. Its stderr goes to workdir/name.err.
func spawn(workdir, name string, argv []string) *child {
	c := &child{Name: name, Args: argv}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = childEnv()
	var err error
	if c.errFile, err = os.Create(filepath.Join(workdir, name+".err")); err != nil {
		c.startErr = err
		return c
	}
	c.cmd.Stderr = c.errFile
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		c.startErr = err
		return c
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		c.startErr = err
		return c
	}
	c.stdout = bufio.NewReader(out)
	c.startErr = c.cmd.Start()
	return c
}

// childEnv is the driver's environment without MLflow's client variables:
// every client gets its URI explicitly.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MLFLOW_") {
			env = append(env, kv)
		}
	}
	return append(env, "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
}

// ready waits for the child's READY line.
func (c *child) ready() error {
	if c.startErr != nil {
		return c.startErr
	}
	line, err := c.stdout.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "READY" {
		return fmt.Errorf("%s: no READY (%q, %v); see its .err file", c.Name, line, err)
	}
	return nil
}

// finish reads the child's JSON, reaps it and records its rusage.
func (c *child) finish() {
	defer func() {
		if c.errFile != nil {
			_ = c.errFile.Close()
		}
	}()
	if c.startErr != nil {
		c.Err = c.startErr.Error()
		return
	}
	rest, _ := io.ReadAll(c.stdout)
	err := c.cmd.Wait()
	if ps := c.cmd.ProcessState; ps != nil {
		c.Exit = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			c.ProcCPU = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
			c.PeakRSS = float64(ru.Maxrss) / 1024
		}
	}
	for _, line := range strings.Split(string(rest), "\n") {
		if strings.HasPrefix(line, "{") {
			if jerr := json.Unmarshal([]byte(line), &c.Out); jerr != nil {
				c.Err = jerr.Error()
			}
		}
	}
	if err != nil && c.Err == "" {
		c.Err = err.Error()
	}
}

// runAll starts every client, waits until all are READY, starts them at
// once and waits for all of them.
func runAll(workdir string, names []string, argvs [][]string) ([]*child, error) {
	kids := make([]*child, len(names))
	for i := range names {
		kids[i] = spawn(workdir, names[i], argvs[i])
	}
	var first error
	for _, k := range kids {
		if err := k.ready(); err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		for _, k := range kids {
			if k.cmd.Process != nil {
				_ = k.cmd.Process.Kill()
			}
		}
	}
	t0 := time.Now()
	for _, k := range kids {
		if k.stdin != nil {
			_, _ = io.WriteString(k.stdin, "go\n")
			_ = k.stdin.Close()
		}
	}
	for _, k := range kids {
		k.finish()
	}
	logf("  %d clients done in %.1f s", len(kids), time.Since(t0).Seconds())
	return kids, first
}
