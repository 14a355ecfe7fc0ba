package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/server"
)

// status asks the server running cfg for its state (GET /status on its
// [metrics] listener) and prints it: ready or why not, the adapter, the
// namespaces with their sockets and rooms, the plugins with the version
// serving and since when. Exit 1 when the server cannot be reached.
func status(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) int {
	if cfg.Metrics.Listen == "" {
		fmt.Fprintf(stderr, "sockwasm status: %s has no [metrics] listen: the running server cannot be asked\n", cfg.File)
		return 1
	}
	host, port, _ := net.SplitHostPort(cfg.Metrics.Listen)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/status", nil)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm status: %v\n", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm status: no server answers on %s (metrics.listen of %s): %v\n", cfg.Metrics.Listen, cfg.File, err)
		return 1
	}
	defer resp.Body.Close()
	var st server.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "sockwasm status: %s answered %s: %v\n", cfg.Metrics.Listen, resp.Status, err)
		return 1
	}
	adapter := st.Adapter
	if st.RedisUp != nil {
		adapter += map[bool]string{true: ", redis up", false: ", redis DOWN"}[*st.RedisUp]
	}
	fmt.Fprintf(stdout, "%s: %s (adapter %s), %d sessions\n", st.Config, st.Ready, adapter, st.Sessions)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "namespace\tsockets\trooms\t")
	for _, n := range st.Namespaces {
		name := n.Name
		if n.Pattern != "" {
			name += " (" + n.Pattern + ")"
		}
		if !n.Routed {
			name += " (removed)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", name, n.Sockets, n.Rooms)
	}
	_ = tw.Flush()
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "plugin\tversion\tserving since\tcalls\tfaults\tinstances\tfile\t")
	for _, p := range st.Plugins {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t\n", p.Name, p.Version, p.Serving.Format(time.RFC3339), p.Calls, p.Faults, p.Instances, p.File)
	}
	_ = tw.Flush()
	return 0
}
