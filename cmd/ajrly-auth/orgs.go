package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// The organization commands change teams through provider/teams, as the
// team pages do, acting as the operator (audit.OperatorActor): every
// change is recorded in the audit log and takes effect at once.

// nArgs is the argument check of a command that takes exactly n.
func nArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("usage: %s", strings.TrimSuffix(useLine(cmd), " [flags]"))
		}
		return nil
	}
}

// roleArg checks a role given on the command line.
func roleArg(command, role string) error {
	if !teams.ValidRole(role) {
		return usageError("%s: the role must be owner, admin or member, not %q", command, role)
	}
	return nil
}

// teamsOf is the teams of the database, for the operator: no mail.
func teamsOf(store *storage.Store) *teams.Teams { return teams.New(store, teams.Config{}) }

// findOrg finds an organization by name (ignoring case and spacing) or id.
func findOrg(ctx context.Context, store *storage.Store, ref string) (*storage.Organization, error) {
	org, err := store.OrganizationByName(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		org, err = store.OrganizationByID(ctx, strings.TrimSpace(ref))
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no organization is named or has the id %q (orgs list shows them)", ref)
	}
	return org, err
}

// onMember runs fn on the organization ref names and the person with
// email, in the database of cfg: what every command on one member needs.
func (c *cli) onMember(ctx context.Context, cfg config.Config, ref, email string, fn func(*storage.Store, *storage.Organization, *storage.User) error) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	org, err := findOrg(ctx, store, ref)
	if err != nil {
		return err
	}
	u, err := findUser(ctx, store, email)
	if err != nil {
		return err
	}
	return fn(store, org, u)
}

// findUser finds a person by email.
func findUser(ctx context.Context, store *storage.Store, email string) (*storage.User, error) {
	u, err := store.UserByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no user has the email %s", storage.NormalizeEmail(email))
	}
	return u, err
}

// teamError says a refusal of provider/teams in the command line's words.
func teamError(err error, u *storage.User, org *storage.Organization) error {
	switch {
	case errors.Is(err, teams.ErrAlreadyMember):
		return fmt.Errorf("%s is already a member of %s", u.Email, org.Name)
	case errors.Is(err, tenancy.ErrNotMember):
		return fmt.Errorf("%s is not a member of %s", u.Email, org.Name)
	case errors.Is(err, teams.ErrLastOwner):
		return fmt.Errorf("%s is the last owner of %s: make someone else an owner first (orgs set-role %q EMAIL owner)", u.Email, org.Name, org.Name)
	}
	return err
}

// orgsCreateFlags are the flags of orgs create.
type orgsCreateFlags struct{ owner string }

func (c *cli) orgsCreateCmd() *cobra.Command {
	var f orgsCreateFlags
	cmd := c.command("create NAME --owner EMAIL", "create an organization owned by a user", nArgs(1),
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.orgsCreate(ctx, cfg, args[0], f)
		})
	cmd.Flags().StringVar(&f.owner, "owner", "", "the `email` of the user who owns it (required)")
	return cmd
}

func (c *cli) orgsCreate(ctx context.Context, cfg config.Config, name string, f orgsCreateFlags) error {
	if strings.TrimSpace(f.owner) == "" {
		return usageError("orgs create: --owner is required")
	}
	if err := storage.ValidateOrgName(name); err != nil {
		return usageError("orgs create: %v", err)
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	owner, err := findUser(ctx, store, f.owner)
	if err != nil {
		return err
	}
	org, err := teamsOf(store).CreateOrganization(ctx, audit.OperatorActor(), name, owner.ID)
	if errors.Is(err, storage.ErrOrgNameTaken) {
		return fmt.Errorf("an organization is already named %q (names ignore case and spacing)", strings.TrimSpace(name))
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created organization %s (%s), owned by %s.\n", org.Name, org.ID, owner.Email)
	return nil
}

func (c *cli) orgsMembersCmd() *cobra.Command {
	return c.command("members ORG", "list the members of an organization (by name or id) with their roles", nArgs(1),
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.orgsMembers(ctx, cfg, args[0])
		})
}

func (c *cli) orgsMembers(ctx context.Context, cfg config.Config, ref string) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	org, err := findOrg(ctx, store, ref)
	if err != nil {
		return err
	}
	members, err := teamsOf(store).Members(ctx, audit.OperatorActor(), org.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER ID\tEMAIL\tNAME\tROLE\tJOINED")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.UserID, m.Email, m.Name, m.Role, m.JoinedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// orgsAddMemberFlags are the flags of orgs add-member.
type orgsAddMemberFlags struct{ role string }

func (c *cli) orgsAddMemberCmd() *cobra.Command {
	var f orgsAddMemberFlags
	cmd := c.command("add-member ORG EMAIL [--role owner|admin|member]", "add a user to an organization, without an invitation", nArgs(2),
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.orgsAddMember(ctx, cfg, args[0], args[1], f)
		})
	cmd.Flags().StringVar(&f.role, "role", storage.RoleMember, "the `role` they get: owner, admin or member")
	completeWords(cmd, "role", storage.RoleOwner, storage.RoleAdmin, storage.RoleMember)
	return cmd
}

func (c *cli) orgsAddMember(ctx context.Context, cfg config.Config, ref, email string, f orgsAddMemberFlags) error {
	if err := roleArg("orgs add-member", f.role); err != nil {
		return err
	}
	return c.onMember(ctx, cfg, ref, email, func(store *storage.Store, org *storage.Organization, u *storage.User) error {
		if err := teamsOf(store).AddMember(ctx, audit.OperatorActor(), org.ID, u.ID, f.role); err != nil {
			return teamError(err, u, org)
		}
		fmt.Fprintf(c.stdout, "Added %s to %s (%s) as %s.\n", u.Email, org.Name, org.ID, f.role)
		return nil
	})
}

func (c *cli) orgsSetRoleCmd() *cobra.Command {
	cmd := c.command("set-role ORG EMAIL owner|admin|member", "change a member's role; a lowered role narrows their grants there at once", nArgs(3),
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.orgsSetRole(ctx, cfg, args[0], args[1], args[2])
		})
	return cmd
}

func (c *cli) orgsSetRole(ctx context.Context, cfg config.Config, ref, email, role string) error {
	if err := roleArg("orgs set-role", role); err != nil {
		return err
	}
	return c.onMember(ctx, cfg, ref, email, func(store *storage.Store, org *storage.Organization, u *storage.User) error {
		if err := teamsOf(store).SetRole(ctx, audit.OperatorActor(), org.ID, u.ID, role); err != nil {
			return teamError(err, u, org)
		}
		fmt.Fprintf(c.stdout, "%s is %s of %s (%s) now.\n", u.Email, tenancy.RoleWithArticle(role), org.Name, org.ID)
		return nil
	})
}

func (c *cli) orgsRemoveMemberCmd() *cobra.Command {
	return c.command("remove-member ORG EMAIL", "remove a member: their sessions, API keys and grants there are revoked", nArgs(2),
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.orgsRemoveMember(ctx, cfg, args[0], args[1])
		})
}

func (c *cli) orgsRemoveMember(ctx context.Context, cfg config.Config, ref, email string) error {
	return c.onMember(ctx, cfg, ref, email, func(store *storage.Store, org *storage.Organization, u *storage.User) error {
		before, err := store.UserOrganizations(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := teamsOf(store).Remove(ctx, audit.OperatorActor(), org.ID, u.ID); err != nil {
			return teamError(err, u, org)
		}
		fmt.Fprintf(c.stdout, "Removed %s from %s (%s): their sessions there, the API keys they created there and the grants they gave in it are revoked.\n",
			u.Email, org.Name, org.ID)
		if len(before) == 1 {
			// Everyone belongs to an organization: one left in none got a
			// personal one.
			if after, err := store.UserOrganizations(ctx, u.ID); err == nil && len(after) == 1 {
				fmt.Fprintf(c.stdout, "They belonged to no other organization and now own their personal one, %s (%s).\n", after[0].Name, after[0].ID)
			}
		}
		return nil
	})
}
