"""Staff management for admins: who has access, their role, and switching access off.
New staff are created with ``backoffice staff create`` so the TOTP secret is handed over
out of band, never shown in a browser. An admin cannot change their own access here (so
nobody locks the last admin out by accident); the page says so."""

from __future__ import annotations

import streamlit as st

from backoffice.staff import state
from core.errors import DomainError
from core.staff import STAFF_ROLES, list_staff, update_staff

ROLE_WORDS = {
    "agent": "Agent: works the queue and decides tickets",
    "admin": "Admin: as agent, plus Ops and Staff",
    "ops": "Ops: dashboards and mail only",
}

admin = state.current_staff()
st.title("Staff")
st.caption(
    "Add staff with `backoffice staff create NAME --role ROLE`: it prints the two-factor "
    "set-up to hand over in person, which a browser page must never show."
)
with state.db(readonly=True) as s:
    members = list_staff(s)
st.dataframe(
    [
        {
            "Username": m.username,
            "Email": m.email,
            "Role": m.role.title(),
            "Access": "Active" if active else "Deactivated",
        }
        for m, active in members
    ],
    hide_index=True,
)
others = {m.username: (m, active) for m, active in members if m.username != admin.username}
if not others:
    st.info(
        "You are the only staff member. Add others with `backoffice staff create`; your own "
        "role and access are changed by another admin or with `backoffice staff set`."
    )
    st.stop()

st.subheader("Change a role or access")
name = st.selectbox("Staff member", list(others), key="s_name")
member, is_active = others[name]
with st.form("staff_update"):
    role = st.selectbox(
        "Role",
        STAFF_ROLES,
        index=STAFF_ROLES.index(member.role) if member.role in STAFF_ROLES else 0,
        format_func=ROLE_WORDS.get,
        key=f"s_role_{name}",
    )
    active = st.toggle(
        "Active",
        value=is_active,
        key=f"s_active_{name}",
        help="Switching it off signs them out everywhere at once.",
    )
    if st.form_submit_button("Save", key="s_save"):
        try:
            with state.db() as s:
                update_staff(s, username=name, role=role, active=active, actor=admin.actor)
            state.flash(f"{name} is now {role}, {'active' if active else 'deactivated'}.")
            st.rerun()
        except DomainError as exc:
            state.show_error(exc)
st.caption("Your own role and access can only be changed by another admin.")
