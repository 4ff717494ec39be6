"""Verification: is a semantic candidate's question really the same question as the one asked?"""
