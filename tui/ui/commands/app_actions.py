"""Commands the app carries out itself: help, signing in, the wallet balance."""

from __future__ import annotations

from .base import AppAction, Workbench

__all__ = ["Help", "ShowBalance", "SignIn"]


class Help(AppAction):
    name = "help"
    title = "Help"
    help = "Keys, backend and graphics mode (f1 / ?)"
    key = "f1"
    footer = "Help"
    priority = True
    also_keys = "question_mark"
    app_action = "help"


class SignIn(AppAction):
    name = "sign_in"
    title = "Sign in to RunComfy"
    help = "Device-code sign-in; then new jobs go to the API"
    app_action = "sign_in"

    def available(self, bench: Workbench) -> bool:
        return bench.can_sign_in


class ShowBalance(AppAction):
    name = "show_balance"
    title = "Show balance"
    help = "The RunComfy wallet balance (one wallet for every product)"
    app_action = "show_balance"
