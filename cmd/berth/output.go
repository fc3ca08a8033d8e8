package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// apiDo makes one admin API call with the stored credentials.
func apiDo(cmd *cobra.Command, method, path string, in, out any) error {
	api, err := newAPIClient()
	if err != nil {
		return err
	}
	return api.call(cmd.Context(), method, path, in, out)
}

// listAll follows a list endpoint's pages to the end.
func listAll[T any](cmd *cobra.Command, path string) ([]T, error) {
	api, err := newAPIClient()
	if err != nil {
		return nil, err
	}
	var all []T
	after := ""
	for {
		var page struct {
			Items []T    `json:"items"`
			Next  string `json:"next"`
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := path + sep + "limit=1000&after=" + url.QueryEscape(after)
		if err := api.call(cmd.Context(), "GET", p, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		after = page.Next
	}
}

// printTable prints rows as aligned columns; the first row is the header.
func printTable(cmd *cobra.Command, rows [][]string) error {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

// parseSize reads a size such as 10GiB, 500MB or 1024; "" is 0.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	num, mult := s, int64(1)
	for _, u := range sizeUnits {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as 10GiB", s)
	}
	return int64(n * float64(mult)), nil
}

// formatSize shows bytes in binary units.
func formatSize(n int64) string {
	for _, u := range sizeUnits[:4] {
		if n >= u.mult {
			return strconv.FormatFloat(float64(n)/float64(u.mult), 'f', 1, 64) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
