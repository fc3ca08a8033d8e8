package main

import (
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// auditEntry is one audit record as the admin API shows it.
type auditEntry struct {
	ID         string    `json:"id"`
	Action     string    `json:"action"`
	Repository string    `json:"repository"`
	Digest     string    `json:"digest"`
	Tag        string    `json:"tag"`
	Target     string    `json:"target"`
	Actor      string    `json:"actor"`
	Addr       string    `json:"addr"`
	Time       time.Time `json:"time"`
}

func auditCmd() *cobra.Command {
	var f struct{ project, repo, actor, action, since string }
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log: pushes, pulls, deletes and admin changes, oldest first",
		Example: "  berth audit --project team --action push --since 24h\n" +
			"  berth audit --actor 'robot$team+ci'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"project": f.project, "repository": f.repo,
				"actor": f.actor, "action": f.action} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if f.since != "" {
				d, err := time.ParseDuration(f.since)
				if err != nil {
					return err
				}
				q.Set("since", time.Now().Add(-d).UTC().Format(time.RFC3339))
			}
			es, err := listAll[auditEntry](cmd, "/audit?"+q.Encode())
			if err != nil {
				return err
			}
			rows := [][]string{{"TIME", "ACTOR", "ADDR", "ACTION", "WHAT"}}
			for _, e := range es {
				what := strings.TrimSpace(e.Repository + " " + e.Tag + " " + e.Digest + e.Target)
				rows = append(rows, []string{e.Time.Format(time.RFC3339), e.Actor, e.Addr,
					e.Action, what})
			}
			return printTable(cmd, rows)
		},
	}
	cmd.Flags().StringVar(&f.project, "project", "", "only this project")
	cmd.Flags().StringVar(&f.repo, "repository", "", "only this repository")
	cmd.Flags().StringVar(&f.actor, "actor", "", "only this user or robot")
	cmd.Flags().StringVar(&f.action, "action", "", "push, pull, delete, or admin: for admin changes")
	cmd.Flags().StringVar(&f.since, "since", "", "only the last duration, such as 24h")
	return cmd
}
