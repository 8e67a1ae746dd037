"""Lost everything? The recovery options in order, ending with an email to support and the
``ssh-keygen -Y sign`` proof that the staff back office checks."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from core.settings import get_settings
from core.tickets.challenge import CHALLENGE_LIFETIME, signing_command

settings = get_settings()
support = settings.support_address

st.title("Lost access to your two-factor authentication?")
st.write(
    "Try these in order. The first one that works gets you back in; only the last one needs "
    "a person at Hugging Face."
)

st.header("1. Use a recovery code")
st.markdown(
    "When you enabled two-factor authentication you were shown recovery codes and offered "
    "`huggingface-recovery-codes.txt` to download. Sign in with your username or email and "
    "password; when asked for the authentication code, choose **Lost access to your "
    "two-factor authentication app? Use a recovery code** and enter one of them. Each code "
    "works once. Once you are in, regenerate your codes and set up your new device in "
    "Settings → Authentication."
)
st.page_link("views/sign_in.py", label="Sign in with a recovery code", icon=":material/login:")

st.header("2. Email support")
st.markdown(
    f"If you have neither your authenticator app nor a recovery code, email "
    f"[{support}](mailto:{support}) from the email address of your account, with:\n\n"
    "- your **account name** (username), and\n"
    "- something only the account's owner has, registered on the account before you lost "
    "access:\n"
    "  - an **SSH public key** added to your account (the content of your `.pub` file, e.g. "
    "`~/.ssh/id_ed25519.pub`), or\n"
    "  - a **User Access Token** of the account (`hf_...`). Because it travels by email, it "
    "is revoked when your request is approved; create a new one afterwards.\n\n"
    "Never send your password, your private key or a recovery code."
)
account = st.text_input(
    "Your account name (to prepare the email)", key="lost_account", placeholder="username"
)
subject = f"2FA recovery for {account or '<your account name>'}"
st.caption("A draft you can paste into your email:")
st.code(
    f"To: {support}\n"
    f"Subject: {subject}\n\n"
    "Hello,\n\n"
    "I lost access to my two-factor authentication app and my recovery codes.\n"
    f"Account name: {account or '<your account name>'}\n"
    "SSH public key registered on the account:\n"
    "<paste the content of ~/.ssh/id_ed25519.pub here>\n",
    language=None,
)
st.link_button(
    "Write the email",
    f"mailto:{support}?subject={quote(subject)}",
    icon=":material/mail:",
)

st.header("3. Prove you hold the SSH key")
st.markdown(
    "A public key is public, so it alone is weak evidence. Support's automatic reply gives "
    "your request a ticket number and a **challenge**: a few lines of text. Save them "
    "exactly as they are as `challenge.txt`, then sign the file with the private key that "
    "belongs to the public key registered on your account:"
)
st.code(signing_command(), language="bash", wrap_lines=True)
st.markdown(
    f"This writes `challenge.txt.sig`. Reply to support's email with its content (it starts "
    f"with `-----BEGIN SSH SIGNATURE-----`). Use the `-f` path of your own key; the `-n` "
    f"namespace must stay `{settings.sshsig_namespace}`. The challenge is valid for "
    f"{CHALLENGE_LIFETIME.days} days; after that, ask for a new one by replying."
)

st.header("4. What happens next")
st.markdown(
    "- Support checks what you sent against the records of the account: the registered SSH "
    "keys and access tokens. A valid signature of the challenge or a valid access token is "
    "strong proof.\n"
    "- If it holds, support resets two-factor authentication on the account: the "
    "authenticator app registration and every recovery code are removed, and an email goes "
    "to the account's address. You then sign in with your password alone and should add "
    "two-factor authentication again right away.\n"
    "- If it does not, you get an email saying why; reply to it to send more.\n"
    "- A person reviews every request, so it is not instant: expect an answer within a few "
    "working days. Replying with the signed challenge straight away is the fastest way."
)
