package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func loginCmd() *cobra.Command {
	var user string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Check credentials against a Berth registry and store them for admin commands",
		Example: "  printf '%s' \"$PW\" | berth login http://localhost:5000 --username admin " +
			"--password-stdin",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(stdin)
			if err != nil {
				return err
			}
			c := credentials{URL: normalizeURL(args[0]), Username: user, Password: pw}
			api := &apiClient{creds: c, http: &http.Client{Timeout: time.Minute}}
			var me struct {
				Name  string `json:"name"`
				Admin bool   `json:"admin"`
			}
			if err := api.call(cmd.Context(), "GET", "/me", nil, &me); err != nil {
				return fmt.Errorf("login failed: %w", err)
			}
			path, err := saveCredentials(c)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "logged in to %s as %s (admin: %v); credentials in %s\n",
				c.URL, me.Name, me.Admin, path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&user, "username", "u", "", "user or robot name")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false,
		"read the password from standard input (else from BERTH_PASSWORD)")
	_ = cmd.MarkFlagRequired("username")
	return cmd
}

func logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the stored credentials",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := credentialsPath()
			if err != nil {
				return err
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return nil
		},
	}
}

// readPassword reads a password from the first line of standard input, or from
// BERTH_PASSWORD. Passwords are never taken from flags, which other users of the
// machine can read in the process list.
func readPassword(stdin bool) (string, error) {
	if !stdin {
		if pw := os.Getenv("BERTH_PASSWORD"); pw != "" {
			return pw, nil
		}
		return "", errors.New("no password: pass --password-stdin or set BERTH_PASSWORD")
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// normalizeURL adds http:// to a bare host:port.
func normalizeURL(u string) string {
	if !strings.Contains(u, "://") {
		return "http://" + u
	}
	return strings.TrimSuffix(u, "/")
}
