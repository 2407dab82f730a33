package mlflow

import (
	"context"
	"net/url"
	"strconv"
)

// defaultPageSize is the page size GetMetricHistory asks for: the maximum
// MLflow's server accepts for metrics/get-history.
const defaultPageSize = 25000

// maxHistoryPages bounds the pages GetMetricHistory follows, against a server
// that keeps answering with a next page token.
const maxHistoryPages = 100000

// GetMetricHistory returns every point of a run's metric
// (metrics/get-history), following the pages to the end, in the server's
// order (by step, then timestamp, then value for the SQL store). NaN values
// come back as NaN.
func (c *Client) GetMetricHistory(ctx context.Context, runID, key string) ([]Metric, error) {
	var all []Metric
	token := ""
	for page := 0; page < maxHistoryPages; page++ {
		q := url.Values{"run_id": {runID}, "metric_key": {key}, "max_results": {strconv.Itoa(c.page)}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			Metrics       []Metric `json:"metrics"`
			NextPageToken string   `json:"next_page_token"`
		}
		if err := c.get(ctx, "metrics/get-history", q, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Metrics...)
		if out.NextPageToken == "" || out.NextPageToken == token {
			break
		}
		token = out.NextPageToken
	}
	return all, nil
}
