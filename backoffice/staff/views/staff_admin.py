"""Staff management for admins: who has access, their role, and switching access off.
New staff are created with ``backoffice staff create`` so the TOTP secret is handed over
out of band, never shown in a browser."""

from __future__ import annotations

import streamlit as st

from backoffice.staff import state
from core.errors import DomainError
from core.staff import STAFF_ROLES, list_staff, update_staff

admin = state.current_staff()
st.title("Staff")
st.caption("Create staff with `backoffice staff create NAME --role ROLE` (prints the 2FA setup).")
with state.db(readonly=True) as s:
    members = list_staff(s)
st.dataframe(
    [
        {"Username": m.username, "Email": m.email, "Role": m.role, "Active": active}
        for m, active in members
    ],
    hide_index=True,
)
names = [m.username for m, _ in members if m.username != admin.username]
if names:
    with st.form("staff_update"):
        name = st.selectbox("Staff member", names, key="s_name")
        role = st.selectbox("Role", STAFF_ROLES, key="s_role")
        active = st.checkbox("Active", value=True, key="s_active")
        if st.form_submit_button("Save"):
            try:
                with state.db() as s:
                    update_staff(
                        s, username=name, role=role, active=active, actor=f"staff:{admin.username}"
                    )
                state.flash(f"{name}: {role}, {'active' if active else 'deactivated'}.")
                st.rerun()
            except DomainError as exc:
                state.show_error(exc)
