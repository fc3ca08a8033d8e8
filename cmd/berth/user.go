package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

type user struct {
	Name  string `json:"name"`
	Admin bool   `json:"admin"`
}

func userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Create, list, change and delete local users"}
	cmd.AddCommand(userCreateCmd(), userListCmd(), userPasswdCmd(), userSetAdminCmd(),
		&cobra.Command{
			Use: "delete NAME", Short: "Delete a user", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return apiDo(cmd, "DELETE", "/users/"+esc(args[0]), nil, nil)
			},
		})
	return cmd
}

func userCreateCmd() *cobra.Command {
	var admin, stdin bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user; without --password-stdin a password is generated and shown once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, generated, err := newPassword(stdin)
			if err != nil {
				return err
			}
			in := map[string]any{"name": args[0], "password": pw, "admin": admin}
			if err := apiDo(cmd, "POST", "/users", in, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created user %s (admin: %v)\n", args[0], admin)
			if generated {
				fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n(shown once; not stored in "+
					"plain text anywhere)\n", pw)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&admin, "admin", false, "make the user a system admin")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

// newPassword reads a password from standard input, or generates one.
func newPassword(stdin bool) (pw string, generated bool, err error) {
	if stdin {
		pw, err = readPassword(true)
		return pw, false, err
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	return base64.RawURLEncoding.EncodeToString(b), true, nil
}

func userListCmd() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List users (system admins only)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			us, err := listAll[user](cmd, "/users")
			if err != nil {
				return err
			}
			rows := [][]string{{"NAME", "ADMIN"}}
			for _, u := range us {
				rows = append(rows, []string{u.Name, strconv.FormatBool(u.Admin)})
			}
			return printTable(cmd, rows)
		},
	}
}

func userPasswdCmd() *cobra.Command {
	var stdin bool
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password (your own, or anyone's as an admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, generated, err := newPassword(stdin)
			if err != nil {
				return err
			}
			in := map[string]any{"password": pw}
			if err := apiDo(cmd, "PATCH", "/users/"+esc(args[0]), in, nil); err != nil {
				return err
			}
			if generated {
				fmt.Fprintf(cmd.OutOrStdout(), "new password: %s\n", pw)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func userSetAdminCmd() *cobra.Command {
	return &cobra.Command{
		Use: "set-admin NAME true|false", Short: "Make a user a system admin, or not",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := strconv.ParseBool(args[1])
			if err != nil {
				return fmt.Errorf("%q: want true or false", args[1])
			}
			return apiDo(cmd, "PATCH", "/users/"+esc(args[0]), map[string]any{"admin": b}, nil)
		},
	}
}
