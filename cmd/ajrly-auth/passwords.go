package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// An operator's side of password recovery: setting a person's password
// (users set-password), which does what a reset does, and making a reset
// link to hand over (users reset-link), which needs no mail.

func (c *cli) usersSetPasswordCmd() *cobra.Command {
	return c.command("set-password EMAIL", "set a user's password, read from standard input or a prompt; signs them out everywhere", exactlyOneEmail,
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.usersSetPassword(ctx, cfg, args[0])
		})
}

func (c *cli) usersResetLinkCmd() *cobra.Command {
	return c.command("reset-link EMAIL", "print a link with which a user chooses a new password (one hour, once)", exactlyOneEmail,
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.usersResetLink(ctx, cfg, args[0])
		})
}

// exactlyOneEmail checks that a command got one argument, the address.
func exactlyOneEmail(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError("give the user's email address, and nothing else (%d arguments)", len(args))
	}
	return nil
}

// readNewPassword reads a password: the first line of standard input, or
// when that is a terminal, typed twice at a prompt without echo. Never a
// flag: ps would show it to everyone on the machine.
func (c *cli) readNewPassword() (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		prompt := func(what string) (string, error) {
			fmt.Fprint(c.stderr, what)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(c.stderr)
			return string(b), err
		}
		first, err := prompt("New password: ")
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		again, err := prompt("The new password again: ")
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if first != again {
			return "", usageError("users set-password: the two passwords differ")
		}
		return first, nil
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *cli) usersSetPassword(ctx context.Context, cfg config.Config, email string) error {
	password, err := c.readNewPassword()
	if err != nil {
		return err
	}
	// The policy needs the address, not the database: a refused password
	// is told before anything is opened.
	if problems := accounts.CheckPassword(password, email); len(problems) > 0 {
		return usageError("users set-password: the password %s", problems[0].Message)
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	// With SMTP configured the person is told of the change, as after a
	// reset; the mailer is closed (delivering) before the command ends.
	var mailer *mail.Mailer
	if cfg.MailSMTPURL != "" {
		if mailer, err = mail.New(mail.Options{SMTPURL: cfg.MailSMTPURL, From: cfg.MailFrom, Name: "Ajrly", Issuer: cfg.Issuer,
			Logger: newLogger(cfg, c.stderr)}); err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = mailer.Close(ctx)
		}()
	}
	u, err := accounts.New(store, accounts.Config{Mailer: mailer, Issuer: cfg.Issuer}).SetPassword(ctx, email, password)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("no user has the email %s", storage.NormalizeEmail(email))
	case errors.Is(err, accounts.ErrNotSent):
		fmt.Fprintf(c.stderr, "ajrly-auth: users set-password: %v\n", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "Set the password of %s (%s). They are signed out everywhere, and the apps' tokens for them are revoked.\n", u.Email, u.ID)
	if mailer != nil {
		fmt.Fprintf(c.stdout, "They are told by mail at %s.\n", u.Email)
	}
	return nil
}

func (c *cli) usersResetLink(ctx context.Context, cfg config.Config, email string) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	link, err := accounts.New(store, accounts.Config{Issuer: cfg.Issuer}).ResetLink(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user has the email %s", storage.NormalizeEmail(email))
	} else if err != nil {
		return err
	}
	// The link alone on stdout, for a script; what it is on stderr.
	fmt.Fprintf(c.stderr, "A link for %s to choose a new password; it works once, for %d minutes, and ends any earlier one:\n",
		storage.NormalizeEmail(email), int(accounts.ResetLinkTTL.Minutes()))
	fmt.Fprintln(c.stdout, link)
	return nil
}
