package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

// project is a project as the admin API shows it.
type project struct {
	Name       string `json:"name"`
	Public     bool   `json:"public"`
	QuotaBytes int64  `json:"quota_bytes"`
	UsageBytes int64  `json:"usage_bytes"`
}

func projectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "project", Short: "Create, list, change and delete projects"}
	cmd.AddCommand(projectCreateCmd(), projectListCmd(), projectShowCmd(),
		projectUpdateCmd(), projectDeleteCmd(), projectMemberCmd())
	return cmd
}

func projectCreateCmd() *cobra.Command {
	var public bool
	var quota string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project (private unless --public)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := parseSize(quota)
			if err != nil {
				return err
			}
			var p project
			in := map[string]any{"name": args[0], "public": public, "quota_bytes": q}
			if err := apiDo(cmd, "POST", "/projects", in, &p); err != nil {
				return err
			}
			return printProjects(cmd, p)
		},
	}
	cmd.Flags().BoolVar(&public, "public", false, "anyone, anonymous callers included, may pull")
	cmd.Flags().StringVar(&quota, "quota", "", "storage quota such as 10GiB (none when empty)")
	return cmd
}

func projectListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the projects you may pull from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := listAll[project](cmd, "/projects")
			if err != nil {
				return err
			}
			return printProjects(cmd, ps...)
		},
	}
}

func projectShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a project with its storage usage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p project
			if err := apiDo(cmd, "GET", "/projects/"+esc(args[0]), nil, &p); err != nil {
				return err
			}
			return printProjects(cmd, p)
		},
	}
}

func projectUpdateCmd() *cobra.Command {
	var public, quota string
	cmd := &cobra.Command{
		Use:   "update NAME [--public true|false] [--quota SIZE]",
		Short: "Change a project's visibility or quota (--quota 0 removes it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := map[string]any{}
			if public != "" {
				b, err := strconv.ParseBool(public)
				if err != nil {
					return fmt.Errorf("--public %q: want true or false", public)
				}
				in["public"] = b
			}
			if quota != "" {
				q, err := parseSize(quota)
				if err != nil {
					return err
				}
				in["quota_bytes"] = q
			}
			var p project
			if err := apiDo(cmd, "PATCH", "/projects/"+esc(args[0]), in, &p); err != nil {
				return err
			}
			return printProjects(cmd, p)
		},
	}
	cmd.Flags().StringVar(&public, "public", "", "true or false")
	cmd.Flags().StringVar(&quota, "quota", "", "storage quota such as 10GiB; 0 for none")
	return cmd
}

func projectDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an empty project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return apiDo(cmd, "DELETE", "/projects/"+esc(args[0]), nil, nil)
		},
	}
}

func printProjects(cmd *cobra.Command, ps ...project) error {
	rows := [][]string{{"NAME", "PUBLIC", "QUOTA", "USAGE"}}
	for _, p := range ps {
		quota := "none"
		if p.QuotaBytes > 0 {
			quota = formatSize(p.QuotaBytes)
		}
		rows = append(rows, []string{p.Name, strconv.FormatBool(p.Public), quota,
			formatSize(p.UsageBytes)})
	}
	return printTable(cmd, rows)
}

func projectMemberCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "List, set and remove project members"}
	cmd.AddCommand(&cobra.Command{
		Use: "list PROJECT", Short: "List a project's members", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				Items []struct{ User, Role string } `json:"items"`
			}
			if err := apiDo(cmd, "GET", "/projects/"+esc(args[0])+"/members", nil, &out); err != nil {
				return err
			}
			rows := [][]string{{"USER", "ROLE"}}
			for _, m := range out.Items {
				rows = append(rows, []string{m.User, m.Role})
			}
			return printTable(cmd, rows)
		},
	}, &cobra.Command{
		Use:   "set PROJECT USER ROLE",
		Short: "Give USER a role: project-admin, maintainer, developer, guest, limited-guest",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/projects/" + esc(args[0]) + "/members/" + esc(args[1])
			return apiDo(cmd, "PUT", path, map[string]string{"role": args[2]}, nil)
		},
	}, &cobra.Command{
		Use: "remove PROJECT USER", Short: "Remove a member", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/projects/" + esc(args[0]) + "/members/" + esc(args[1])
			return apiDo(cmd, "DELETE", path, nil, nil)
		},
	})
	return cmd
}
