package teams

import (
	"net/url"

	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
)

// mailMessage is the invitation's mail: who invited them, to which
// organization, with which role, the link and how long it works.
func mailMessage(issuer string, inv *Invitation, token string) mail.Message {
	return mail.Message{To: inv.Email, Template: "invitation", Data: map[string]string{
		"InvitedBy": inv.InvitedBy,
		"OrgName":   inv.OrgName,
		"Role":      tenancy.RoleWithArticle(inv.Role),
		"Link":      issuer + PathAccept + "?" + url.Values{"token": {token}}.Encode(),
	}}
}
