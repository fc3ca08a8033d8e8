package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func repoCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "repo", Short: "List and delete repositories"}
	cmd.AddCommand(&cobra.Command{
		Use: "list PROJECT", Short: "List a project's repositories", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repos, err := listAll[string](cmd, "/projects/"+esc(args[0])+"/repositories")
			if err != nil {
				return err
			}
			for _, r := range repos {
				fmt.Fprintln(cmd.OutOrStdout(), r)
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "delete PROJECT/REPOSITORY",
		Short: "Delete a repository with all its tags and manifests",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, rest, ok := strings.Cut(args[0], "/")
			if !ok || project == "" || rest == "" {
				return fmt.Errorf("%q: want PROJECT/REPOSITORY", args[0])
			}
			return apiDo(cmd, "DELETE", "/projects/"+esc(project)+"/repositories/"+rest, nil, nil)
		},
	})
	return cmd
}
