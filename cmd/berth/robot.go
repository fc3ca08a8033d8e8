package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type permission struct {
	Project string   `json:"project"`
	Actions []string `json:"actions"`
}

type robot struct {
	Name        string       `json:"name"`
	Project     string       `json:"project"`
	Permissions []permission `json:"permissions"`
	Expires     time.Time    `json:"expires"`
	Disabled    bool         `json:"disabled"`
	Secret      string       `json:"secret"`
}

func robotCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "robot", Short: "Robot accounts for CI and other machines"}
	cmd.AddCommand(robotCreateCmd(), robotListCmd(),
		robotToggleCmd("disable", true), robotToggleCmd("enable", false),
		&cobra.Command{
			Use: "delete NAME", Short: "Delete a robot; it is refused at once",
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return apiDo(cmd, "DELETE", "/robots/"+esc(args[0]), nil, nil)
			},
		})
	return cmd
}

func robotCreateCmd() *cobra.Command {
	var project, expires, desc string
	var perms []string
	cmd := &cobra.Command{
		Use:   "create NAME --perm PROJECT:ACTION[,ACTION...] ...",
		Short: "Create a robot; its secret is shown once",
		Example: "  berth robot create ci --project team --perm team:pull,push --expires 720h\n" +
			"  berth robot create mirror --perm '*:pull'",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := parsePerms(perms)
			if err != nil {
				return err
			}
			in := map[string]any{"name": args[0], "project": project, "description": desc,
				"permissions": ps, "expires_in": expires}
			var r robot
			if err := apiDo(cmd, "POST", "/robots", in, &r); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "robot: %s\nsecret: %s\n(the secret is shown "+
				"once; log in with the robot's full name as user)\n", r.Name, r.Secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "owning project (none: a system robot)")
	cmd.Flags().StringArrayVar(&perms, "perm", nil,
		"PROJECT:ACTIONS, actions among pull, push, delete-artifact, ... ('*' for all projects)")
	cmd.Flags().StringVar(&expires, "expires", "", "lifetime such as 720h (never when empty)")
	cmd.Flags().StringVar(&desc, "description", "", "what the robot is for")
	return cmd
}

// parsePerms reads PROJECT:ACTION,ACTION flags.
func parsePerms(flags []string) ([]permission, error) {
	if len(flags) == 0 {
		return nil, fmt.Errorf("give at least one --perm PROJECT:ACTION[,ACTION...]")
	}
	var out []permission
	for _, f := range flags {
		proj, acts, ok := strings.Cut(f, ":")
		if !ok || proj == "" || acts == "" {
			return nil, fmt.Errorf("--perm %q: want PROJECT:ACTION[,ACTION...]", f)
		}
		out = append(out, permission{Project: proj, Actions: strings.Split(acts, ",")})
	}
	return out, nil
}

func robotListCmd() *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use: "list", Short: "List robots (of one project with --project)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/robots"
			if project != "" {
				path += "?project=" + esc(project)
			}
			rs, err := listAll[robot](cmd, path)
			if err != nil {
				return err
			}
			rows := [][]string{{"NAME", "PERMISSIONS", "EXPIRES", "DISABLED"}}
			for _, r := range rs {
				var ps []string
				for _, p := range r.Permissions {
					ps = append(ps, p.Project+":"+strings.Join(p.Actions, ","))
				}
				exp := "never"
				if !r.Expires.IsZero() {
					exp = r.Expires.Format(time.RFC3339)
				}
				rows = append(rows, []string{r.Name, strings.Join(ps, " "), exp,
					fmt.Sprint(r.Disabled)})
			}
			return printTable(cmd, rows)
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "only this project's robots")
	return cmd
}

func robotToggleCmd(verb string, disabled bool) *cobra.Command {
	return &cobra.Command{
		Use: verb + " NAME", Short: strings.ToUpper(verb[:1]) + verb[1:] + " a robot",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := map[string]bool{"disabled": disabled}
			return apiDo(cmd, "PATCH", "/robots/"+esc(args[0]), in, nil)
		},
	}
}
